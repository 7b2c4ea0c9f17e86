"""Flow revisions in a real database (SQLite and PostgreSQL): stored once, read back after a restart."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.db import make_engine, session_factory, upgrade
from ivr.db.models import FlowRevision
from ivr.flows.flowset import FlowSet
from ivr.flows.revisions import RevisionArchive
from ivr.flows.runtime import LiveFlows

MINIMAL = (Path(__file__).parent / "fixtures" / "valid" / "minimal.yaml").read_text(encoding="utf-8")
HOTLINE = MINIMAL.replace("name: minimal", "name: hotline")
# The edit removes the node 'menu' that a call may be waiting in.
EDITED = HOTLINE.replace("start: menu", "start: main").replace("  menu:\n", "  main:\n")


@pytest.fixture
def folder(tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "hotline.yaml").write_text(HOTLINE, encoding="utf-8")
    (flows / "hotline.en.yaml").write_text(HOTLINE.replace("language: de", "language: en"), encoding="utf-8")
    return flows


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def archive(database_url, engine):
    upgrade(database_url)
    return RevisionArchive(session_factory(engine))


def stored(engine) -> list[tuple[str, str, str]]:
    with session_factory(engine)() as session:
        return sorted(session.execute(select(FlowRevision.name, FlowRevision.language, FlowRevision.revision)).all())


def test_loading_stores_every_revision_with_its_text(folder, archive, engine):
    flows = FlowSet(folder, archive)
    flows.reload()
    assert stored(engine) == sorted((f.name, f.language, f.revision) for f in flows.flows())
    with session_factory(engine)() as session:
        row = session.get(FlowRevision, flows.get("hotline", "de").revision)
        assert (row.source, row.path) == (HOTLINE, str(folder / "hotline.yaml"))
        assert row.first_seen_at.tzinfo is not None


def test_an_edit_adds_a_revision_and_keeps_the_old_one(folder, archive, engine):
    flows = FlowSet(folder, archive)
    flows.reload()
    old = flows.get("hotline", "de").revision
    (folder / "hotline.yaml").write_text(EDITED, encoding="utf-8")
    flows.reload()
    revisions = [revision for _, language, revision in stored(engine) if language == "de"]
    assert sorted(revisions) == sorted([old, flows.get("hotline", "de").revision])


def test_a_new_process_rebuilds_an_old_revision_from_the_database(folder, archive):
    before = FlowSet(folder, archive)
    before.reload()
    old = before.get("hotline", "de")
    (folder / "hotline.yaml").write_text(EDITED, encoding="utf-8")
    after = FlowSet(folder, archive)  # a restart: nothing in memory but the edited file
    after.reload()
    assert "menu" not in after.get("hotline", "de").nodes
    rebuilt = after.by_revision(old.revision)
    assert (rebuilt.revision, rebuilt.start, rebuilt.where) == (old.revision, "menu", old.where)
    assert rebuilt.nodes == old.nodes
    assert after.by_revision(old.revision) is rebuilt  # read once, then kept in memory
    assert after.by_revision("0" * 16) is None


def test_two_servers_loading_the_same_flows_store_each_revision_once(folder, archive, engine):
    first = LiveFlows(folder, archive)
    first_seen = {row.revision: row.first_seen_at for row in _rows(engine)}
    LiveFlows(folder, RevisionArchive(session_factory(engine)))
    assert not first.flowset.unsaved
    assert len(stored(engine)) == 2
    assert {row.revision: row.first_seen_at for row in _rows(engine)} == first_seen


def test_a_revision_another_server_stored_first_is_no_error(folder, archive, engine):
    flow = FlowSet.load(folder).get("hotline", "de")
    with session_factory(engine).begin() as session:
        session.add(FlowRevision(revision=flow.revision, name="hotline", language="de", path="elsewhere.yaml",
                                 source=HOTLINE, first_seen_at=datetime(2026, 3, 1, tzinfo=timezone.utc)))
    assert archive.save([flow]) is True
    (row,) = [r for r in _rows(engine) if r.revision == flow.revision]
    assert (row.path, row.first_seen_at) == ("elsewhere.yaml", datetime(2026, 3, 1, tzinfo=timezone.utc))


def test_two_servers_storing_at_the_same_moment_both_succeed(folder, archive, engine):
    flows = FlowSet.load(folder).flows()
    archives = [archive, RevisionArchive(session_factory(engine))]
    start = threading.Barrier(len(archives))
    results = []

    def store(each: RevisionArchive) -> None:
        start.wait()
        results.append(each.save(flows))

    threads = [threading.Thread(target=store, args=(each,)) for each in archives]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True, True]
    assert len(stored(engine)) == 2


def test_a_database_outage_at_start_is_logged_and_stored_at_a_later_check(folder, database_url, engine, caplog):
    archive = RevisionArchive(session_factory(engine))  # not migrated yet: no table, as if the database were down
    with caplog.at_level(logging.ERROR, logger="hausruf.flows"):
        live = LiveFlows(folder, archive, check_every=0)
    assert [f.key for f in live.current().flows()] == ["hotline:de", "hotline:en"]  # flows serve regardless
    assert live.flowset.unsaved
    assert "could not store flow revisions" in caplog.text
    upgrade(database_url)
    live.current()  # the files did not change; the check tries the database again
    assert not live.flowset.unsaved
    assert len(stored(engine)) == 2


def test_a_database_outage_makes_an_unknown_revision_none(folder, engine, caplog):
    flows = FlowSet(folder, RevisionArchive(session_factory(engine)))  # no table
    with caplog.at_level(logging.ERROR, logger="hausruf.flows"):
        assert flows.by_revision("0" * 16) is None
    assert f"could not read flow revision {'0' * 16}" in caplog.text


def _rows(engine) -> list[FlowRevision]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(FlowRevision)))

