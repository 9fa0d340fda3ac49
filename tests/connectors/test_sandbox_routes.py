"""Sandbox endpoints over real HTTP."""

from __future__ import annotations

import httpx


def test_personas_and_enterprises(env, data):
    base = env["sandbox"].url
    personas = httpx.get(f"{base}/sandbox/personas").json()
    assert {p["kind"] for p in personas} >= {"applicant", "staff", "admin"}
    assert all("person" in p for p in personas if p["kind"] == "applicant")
    assert len(httpx.get(f"{base}/sandbox/enterprises").json()) == len(data.enterprises)
    xm = httpx.get(f"{base}/sandbox/enterprises", params={"region": "350200"}).json()
    assert xm and all(e["region"].startswith("3502") for e in xm)
    one = data.enterprises[0]
    detail = httpx.get(f"{base}/sandbox/enterprises/{one.uscc}").json()
    assert detail["uscc"] == one.uscc and detail["people"][0]["phone_masked"].count("*") == 4
    bad = httpx.get(f"{base}/sandbox/enterprises/{one.uscc[:-1]}0")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_uscc"


def test_simulator_listing_and_jwks(env):
    base = env["sandbox"].url
    sims = httpx.get(f"{base}/sandbox/simulators").json()
    assert len(sims) == 10 and all(s["base_path"] == f"/sim/{s['system']}" for s in sims)
    jwks = httpx.get(f"{base}/sim/customs-fz/.well-known/jwks.json").json()
    assert jwks["keys"][0]["kty"] == "EC" and "d" not in jwks["keys"][0]
