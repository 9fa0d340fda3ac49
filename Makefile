# The two commands in the README: `make run` and `make test`.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test unit setup test-setup lint lock bench faults security e2e

run: setup ## start the whole platform in embedded mode on http://$(HOST):$(PORT)
	$(PY) -m backend run

# TEST_WORKERS=4 runs the suite on four xdist workers (each with its own PostgreSQL, Redis and
# embedded platform; a module whose fixtures live for the module stays on one worker, conftest.py):
# 18.5 → 11 min on two cores, and the two clean-clone runs since the PDF validator's random failure
# was fixed passed; the two earlier failures on four workers (a job counted by another test's
# platform, an API stop past its timeout) are not explained, so the gate stays serial (issue 24).
TEST_WORKERS ?= 0

test: test-setup ## unit, integration (PostgreSQL, Redis) and end-to-end (Chromium) tests
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

unit: test-setup ## every test that needs no server (no PostgreSQL, Redis, live platform or browser), in parallel
	UNIT_ONLY=1 $(PY) -m pytest -m "not (postgres or redis or slow or e2e)" -n 2 -q

lint: test-setup ## ruff (lint and format) on the whole tree, mypy on backend/
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

e2e: test-setup ## the device walks; BASE_URL=https://… runs them against a deployment (test environment on), DEVICES="iPhone SE,Pixel 7,kiosk-portrait"
	BASE_URL="$(BASE_URL)" DEVICES="$(DEVICES)" $(PY) -m pytest e2e --junitxml=test-results/e2e-junit.xml; status=$$?; \
	$(PY) -m e2e.report; exit $$status

faults: test-setup ## the fault-injection suite (also part of `make test`)
	$(PY) -m pytest tests/faults

security: test-setup ## the security suite (also part of `make test`)
	$(PY) -m pytest tests/security

bench: test-setup ## the benchmarks (on demand; figures land in bench/results/ and docs/benchmarks.md)
	@bash infra/scripts/setup.sh bench
	$(PY) -m bench $(BENCH)

setup:
	@bash infra/scripts/setup.sh python

test-setup:
	@bash infra/scripts/setup.sh test

lock: ## regenerate the hashed locks in requirements/ from pyproject.toml (keeps existing pins)
	bash infra/scripts/lock.sh
