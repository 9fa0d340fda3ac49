"""The staff directory: administrators manage roles and scopes; identity overlays them on logins."""

from __future__ import annotations

import pytest

from backend.administration import overlay_staff_claims, staff_claims
from backend.administration import staff as directory
from backend.administration.staff import StaffChange, StaffInput
from backend.lib.problems import ProblemError
from tests.workbench.support import ADMIN, APPLICANT, STAFF_AMR, WINDOW

CHEN = StaffInput(subject="amr-0042", name="陈立", roles=["agency_staff"], agencies=["amr"], regions=["3501", "350128"])


async def test_create_list_change_and_deactivate(platform):
    created = await directory.create_staff(platform, ADMIN, CHEN)
    assert (created.subject, created.roles, created.agencies, created.regions, created.hall, created.active) == (
        "amr-0042",
        ["agency_staff"],
        ["amr"],
        ["3501", "350128"],
        None,
        True,
    )
    assert created.updated_by == ADMIN.id and created.created_at == platform.clock.now_ms()
    platform.clock.advance(60)
    changed = await directory.change_staff(
        platform, ADMIN, "amr-0042", StaffChange(roles=["agency_staff", "window_staff"], hall="hall-350100")
    )
    assert (changed.roles, changed.hall, changed.agencies, changed.name) == (
        ["agency_staff", "window_staff"],
        "hall-350100",
        ["amr"],
        "陈立",
    )
    assert changed.updated_at > changed.created_at
    off = await directory.deactivate_staff(platform, ADMIN, "amr-0042")
    assert off.active is False
    assert [s.subject for s in await directory.list_staff(platform, ADMIN)] == ["amr-0042"]
    assert await directory.list_staff(platform, ADMIN, include_inactive=False) == []
    back = await directory.change_staff(
        platform, ADMIN, "amr-0042", StaffChange(active=True, roles=["agency_staff"], hall="")
    )
    assert back.active is True and back.hall is None and back.roles == ["agency_staff"]


async def test_validation_names_every_bad_field(platform):
    bad = StaffInput(
        subject="bad id!",
        name=" ",
        roles=["agency_staff", "superuser"],
        agencies=["nope"],
        regions=["36", "3501", "12345", "359999"],
    )
    with pytest.raises(ProblemError) as exc:
        await directory.create_staff(platform, ADMIN, bad)
    assert (exc.value.status, exc.value.code) == (422, "validation_failed")
    assert {(e.field, e.code) for e in exc.value.errors} == {
        ("subject", "invalid_subject"),
        ("name", "invalid_name"),
        ("roles.1", "unknown_role"),
        ("agencies.0", "unknown_agency"),
        ("regions.0", "unknown_region"),
        ("regions.2", "unknown_region"),
        ("regions.3", "unknown_region"),
    }
    for roles, field, code in (
        (["window_staff"], "hall", "hall_required"),
        (["agency_staff"], "agencies", "agency_required"),
        ([], "roles", "role_required"),
    ):
        with pytest.raises(ProblemError) as exc:
            await directory.create_staff(
                platform, ADMIN, StaffInput(subject="x1", name="某人", roles=roles, regions=["35"])
            )
        assert (field, code) in {(e.field, e.code) for e in exc.value.errors}
    with pytest.raises(ProblemError) as exc:
        await directory.create_staff(
            platform, ADMIN, StaffInput(subject="x1", name="某人", roles=["window_staff"], hall="hall-350100")
        )
    assert {(e.field, e.code) for e in exc.value.errors} == {("regions", "region_required")}
    assert await directory.list_staff(platform, ADMIN) == []


async def test_duplicates_unknowns_and_self_lockout(platform):
    await directory.create_staff(platform, ADMIN, CHEN)
    with pytest.raises(ProblemError) as dup:
        await directory.create_staff(platform, ADMIN, CHEN)
    assert (dup.value.status, dup.value.code, dup.value.errors[0].field) == (409, "staff_exists", "subject")
    with pytest.raises(ProblemError) as missing:
        await directory.change_staff(platform, ADMIN, "nobody", StaffChange(name="x"))
    assert (missing.value.status, missing.value.code) == (404, "staff_not_found")
    with pytest.raises(ProblemError) as invalid:
        await directory.change_staff(platform, ADMIN, "amr-0042", StaffChange(regions=["99"]))
    assert [(e.field, e.code) for e in invalid.value.errors] == [("regions.0", "unknown_region")]
    await directory.create_staff(
        platform, ADMIN, StaffInput(subject=ADMIN.id, name="平台管理员", roles=["admin"], regions=["35"])
    )
    for call in (
        directory.deactivate_staff(platform, ADMIN, ADMIN.id),
        directory.change_staff(platform, ADMIN, ADMIN.id, StaffChange(roles=["agency_staff"], agencies=["amr"])),
    ):
        with pytest.raises(ProblemError) as self_lock:
            await call
        assert (self_lock.value.status, self_lock.value.code) == (409, "cannot_remove_own_admin")


@pytest.mark.parametrize("actor", [STAFF_AMR, WINDOW, APPLICANT], ids=lambda a: a.id)
async def test_only_administrators_manage_staff(platform, actor):
    await directory.create_staff(platform, ADMIN, CHEN)
    calls = (
        directory.list_staff(platform, actor),
        directory.get_staff(platform, actor, "amr-0042"),
        directory.create_staff(platform, actor, CHEN),
        directory.change_staff(platform, actor, "amr-0042", StaffChange(name="x")),
        directory.deactivate_staff(platform, actor, "amr-0042"),
    )
    for call in calls:
        with pytest.raises(ProblemError) as denied:
            await call
        assert (denied.value.status, denied.value.code) == (403, "forbidden")


async def test_staff_claims_overlay_logins_without_staff_claims(platform):
    assert await staff_claims(platform, "amr-0042") is None
    await directory.create_staff(
        platform,
        ADMIN,
        StaffInput(subject="win-7", name="林窗口", roles=["window_staff"], regions=["350100"], hall="hall-350100"),
    )
    assert await staff_claims(platform, "win-7") == {
        "roles": ["window_staff"],
        "agencies": [],
        "regions": ["350100"],
        "hall": "hall-350100",
        "name": "林窗口",
    }
    token = {"sub": "win-7", "name": "林某", "iss": "https://idp"}
    overlaid = await overlay_staff_claims(platform, token)
    assert (overlaid["roles"], overlaid["regions"], overlaid["hall"], overlaid["name"], overlaid["sub"]) == (
        ["window_staff"],
        ["350100"],
        "hall-350100",
        "林某",
        "win-7",
    )
    with_roles = {"sub": "win-7", "roles": ["applicant"]}
    assert await overlay_staff_claims(platform, with_roles) is with_roles  # the token's own roles win
    assert await overlay_staff_claims(platform, {"sub": "P002"}) == {"sub": "P002"}
    await directory.deactivate_staff(platform, ADMIN, "win-7")
    assert await staff_claims(platform, "win-7") is None
    assert await overlay_staff_claims(platform, token) == token

    from backend.identity.personas import principal_from_claims

    await directory.change_staff(platform, ADMIN, "win-7", StaffChange(active=True))
    principal = principal_from_claims(await overlay_staff_claims(platform, token), "oidc")
    assert (principal.roles, principal.hall, principal.regions, principal.person_id) == (
        ["window_staff"],
        "hall-350100",
        ["350100"],
        None,
    )
