"""Catalog publication: the version new drafts use is data; publish, roll back, pinned cases."""

from __future__ import annotations

import pytest

from backend.administration import current_catalog_version, publication
from backend.lib.problems import ProblemError
from tests.cases.support import HAPPY_USCC
from tests.workbench.support import ADMIN, APPLICANT, STAFF_AMR, WINDOW


async def test_nothing_published_means_the_latest_shipped(platform, catalogs):
    shipped, newer = catalogs
    assert await current_catalog_version(platform) is None
    state = await publication.state(platform, ADMIN)
    assert (state.current, state.source, state.can_roll_back_to, state.history) == (newer, "default", None, [])
    assert [(v.version, v.current, v.latest) for v in state.versions] == [(shipped, False, False), (newer, True, True)]


async def test_publish_makes_a_version_current_and_records_who_and_why(platform, catalogs):
    shipped, newer = catalogs
    view = await publication.publish(platform, ADMIN, shipped, "新版目录暂缓")
    assert (view.version, view.action, view.previous_version, view.published_by, view.note) == (
        shipped,
        "publish",
        newer,
        ADMIN.id,
        "新版目录暂缓",
    )
    assert view.published_at == platform.clock.now_ms()
    assert await current_catalog_version(platform) == shipped
    state = await publication.state(platform, ADMIN)
    assert (state.current, state.source, state.can_roll_back_to) == (shipped, "publication", newer)
    assert [h.id for h in state.history] == [view.id]
    assert next(v for v in state.versions if v.version == shipped).published_count == 1


async def test_unknown_or_current_versions_are_refused(platform, catalogs):
    shipped, newer = catalogs
    with pytest.raises(ProblemError) as unknown:
        await publication.publish(platform, ADMIN, "2099.9")
    assert (unknown.value.status, unknown.value.code, unknown.value.errors[0].field) == (
        422,
        "unknown_catalog_version",
        "version",
    )
    with pytest.raises(ProblemError) as same:
        await publication.publish(platform, ADMIN, newer)  # already in effect (the default)
    assert (same.value.status, same.value.code) == (409, "already_current")
    assert await current_catalog_version(platform) is None


async def test_rollback_undoes_publications_in_order(platform, catalogs):
    shipped, newer = catalogs
    first = await publication.publish(platform, ADMIN, shipped)
    second = await publication.publish(platform, ADMIN, newer)
    back = await publication.rollback(platform, ADMIN, "新版有误")
    assert (back.version, back.action, back.reverts, back.previous_version, back.note) == (
        shipped,
        "rollback",
        second.id,
        newer,
        "新版有误",
    )
    assert await current_catalog_version(platform) == shipped
    again = await publication.rollback(platform, ADMIN)
    assert (again.version, again.reverts) == (newer, first.id)
    with pytest.raises(ProblemError) as nothing:
        await publication.rollback(platform, ADMIN)
    assert (nothing.value.status, nothing.value.code) == (409, "nothing_to_roll_back")
    history = (await publication.state(platform, ADMIN)).history
    assert [(h.action, h.version) for h in history] == [
        ("rollback", newer),
        ("rollback", shipped),
        ("publish", newer),
        ("publish", shipped),
    ]


@pytest.mark.parametrize("actor", [STAFF_AMR, WINDOW, APPLICANT], ids=lambda a: a.id)
async def test_only_administrators_publish(platform, catalogs, actor):
    shipped, _ = catalogs
    for call in (
        publication.state(platform, actor),
        publication.publish(platform, actor, shipped),
        publication.rollback(platform, actor),
    ):
        with pytest.raises(ProblemError) as denied:
            await call
        assert (denied.value.status, denied.value.code) == (403, "forbidden")
    assert await current_catalog_version(platform) is None


async def test_existing_cases_keep_their_pinned_version(platform, catalogs, monkeypatch):
    shipped, newer = catalogs
    before = await platform.cases.create_draft(APPLICANT, HAPPY_USCC)
    assert before.catalog_version == newer
    await publication.publish(platform, ADMIN, shipped)
    after = await platform.cases.create_draft(APPLICANT, HAPPY_USCC)
    assert after.catalog_version == shipped
    assert (await platform.cases.view(APPLICANT, before.id)).catalog_version == newer
    await publication.rollback(platform, ADMIN)
    latest = await platform.cases.create_draft(APPLICANT, HAPPY_USCC)
    assert latest.catalog_version == newer
    assert (await platform.cases.view(APPLICANT, after.id)).catalog_version == shipped


async def test_another_process_sees_a_publication_at_once(platform, catalogs):
    """No cache: another engine on the same database (another API process) reads the new row at once."""
    from backend import db

    shipped, _ = catalogs
    other = db.make_engine(platform.settings)
    await db.start(other, platform.settings)
    try:
        db.bind(other)
        assert await current_catalog_version(platform) is None
        db.bind(platform.engine)
        await publication.publish(platform, ADMIN, shipped)
        db.bind(other)
        assert await current_catalog_version(platform) == shipped
    finally:
        db.bind(platform.engine)
        await db.stop(other)
