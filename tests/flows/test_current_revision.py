"""One source of truth for every server: the most recently loaded clean revision of each flow is served.

Two servers here are two FlowSets (or LiveFlows) on one real database (SQLite and PostgreSQL), each
with its own copy of the flows folder, as two machines would have. File times are set explicitly
(os.utime), so "edited after" and "older than" do not depend on how fast the test runs.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.db import make_engine, session_factory, upgrade
from ivr.db.models import FlowRevision
from ivr.flows.flowset import FlowSet
from ivr.flows.revisions import RevisionArchive
from ivr.flows.runtime import LiveFlows

MINIMAL = (Path(__file__).parent / "fixtures" / "valid" / "minimal.yaml").read_text(encoding="utf-8")
FIRST = MINIMAL.replace("name: minimal", "name: hotline")
SECOND = FIRST.replace("Auf Wiederhören.", "Tschüss.")
BROKEN = FIRST.replace("kind: hangup", "kind: hangpu")


@pytest.fixture
def engine(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def archive(engine) -> RevisionArchive:
    return RevisionArchive(session_factory(engine))


def folder(tmp_path: Path, name: str, text: str, age_seconds: float = 0) -> Path:
    """A flows folder of one server with hotline.yaml written `age_seconds` ago."""
    path = tmp_path / name
    path.mkdir(exist_ok=True)
    write(path, text, age_seconds)
    return path


def write(path: Path, text: str, age_seconds: float = -1) -> None:
    """An edit: by default stamped a second ahead, so it is surely after every load so far."""
    file = path / "hotline.yaml"
    file.write_text(text, encoding="utf-8")
    stamp = time.time() - age_seconds
    os.utime(file, (stamp, stamp))


def server(path: Path, engine) -> FlowSet:
    flows = FlowSet(path, archive(engine))
    flows.reload()
    return flows


def serving(flows: FlowSet) -> str:
    return flows.get("hotline", "de").text


def test_an_edit_on_one_server_is_served_by_every_server(tmp_path, engine):
    one = server(folder(tmp_path, "one", FIRST, age_seconds=60), engine)
    two = server(folder(tmp_path, "two", FIRST, age_seconds=60), engine)
    write(tmp_path / "one", SECOND)
    one.reload()
    assert serving(one) == SECOND
    assert serving(two) == FIRST  # until its next check (every two seconds in a running server)
    assert two.sync()
    assert serving(two) == SECOND
    (status,) = two.status()
    assert not status.ok and "is older than revision" in status.note and "calls get that revision" in status.note


def test_a_restart_never_goes_back_to_an_older_file(tmp_path, engine):
    one = server(folder(tmp_path, "one", FIRST, age_seconds=60), engine)
    write(tmp_path / "one", SECOND)
    one.reload()
    stale = folder(tmp_path, "stale", FIRST, age_seconds=30)  # written before SECOND was loaded
    restarted = server(stale, engine)
    assert serving(restarted) == SECOND
    again = server(tmp_path / "one", engine)  # the same folder after a restart: nothing changes
    assert serving(again) == SECOND


def test_a_file_put_back_to_an_older_text_becomes_the_most_recent_again(tmp_path, engine):
    one = server(folder(tmp_path, "one", FIRST, age_seconds=60), engine)
    two = server(folder(tmp_path, "two", FIRST, age_seconds=60), engine)
    write(tmp_path / "one", SECOND)
    one.reload()
    write(tmp_path / "one", FIRST, age_seconds=-2)  # put back
    one.reload()
    two.sync()
    assert serving(one) == serving(two) == FIRST
    with session_factory(engine)() as session:
        assert len(session.scalars(select(FlowRevision.revision)).all()) == 2  # the old text, stamped again
    assert server(tmp_path / "two", engine).get("hotline", "de").text == FIRST


def test_a_broken_file_never_replaces_a_revision_not_even_after_a_restart(tmp_path, engine):
    one = server(folder(tmp_path, "one", FIRST, age_seconds=60), engine)
    good = one.get("hotline", "de").revision
    write(tmp_path / "one", BROKEN)
    one.reload()
    assert one.get("hotline", "de").revision == good
    restarted = server(tmp_path / "one", engine)  # nothing in memory: the revision comes from the database
    assert restarted.get("hotline", "de").revision == good
    (status,) = restarted.status()
    assert status.file_revision is None and status.serving.revision == good
    assert status.note.startswith(f"{tmp_path / 'one' / 'hotline.yaml'} has errors; calls get the last good "
                                  f"revision {good}")
    with session_factory(engine)() as session:
        assert session.scalars(select(FlowRevision.revision)).all() == [good]


def test_a_broken_file_without_any_stored_revision_says_so(tmp_path, engine):
    flows = server(folder(tmp_path, "one", "version: 1\nname: [\n"), engine)
    assert flows.flows() == []
    (status,) = flows.status()
    assert status.serving is None and "has errors and no earlier revision of it is stored" in status.note


def test_calls_in_progress_keep_their_revision(tmp_path, engine):
    one = server(folder(tmp_path, "one", FIRST, age_seconds=60), engine)
    started_on = one.get("hotline", "de").revision
    write(tmp_path / "one", SECOND)
    one.reload()
    assert one.by_revision(started_on).text == FIRST
    assert server(folder(tmp_path, "two", SECOND), engine).by_revision(started_on).text == FIRST


def test_a_running_server_notices_another_servers_load_within_its_check(tmp_path, engine):
    live = LiveFlows(folder(tmp_path, "one", FIRST, age_seconds=60), archive(engine), check_every=0)
    other = server(folder(tmp_path, "two", FIRST, age_seconds=60), engine)
    write(tmp_path / "two", SECOND)
    other.reload()
    deadline = time.monotonic() + 5
    while serving(live.current()) != SECOND and time.monotonic() < deadline:
        time.sleep(0.05)  # the check asks the database in the background: a webhook never waits for it
    assert serving(live.current()) == SECOND


# --- the API the console uses ----------------------------------------------------------------------

def test_an_upload_with_errors_is_refused_with_the_checkers_messages(tmp_path, engine):
    live = LiveFlows(folder(tmp_path, "one", FIRST, age_seconds=60), archive(engine))
    result = live.store_upload("hotline.yaml", BROKEN)
    assert not result.stored
    assert result.messages == ["hotline.yaml:17: node 'bye': unknown kind 'hangpu'; expected one of: callback, "
                               "condition, connect, goto, hangup, menu, message, say; did you mean 'hangup'?"]
    assert (tmp_path / "one" / "hotline.yaml").read_text(encoding="utf-8") == FIRST
    assert serving(live.current()) == FIRST


@pytest.mark.parametrize("name, message", [
    ("../hotline.yaml", "not a flow file name; allowed: a plain name ending in .yaml or .yml"),
    ("hotline.txt", "not a flow file name"),
    ("other.yaml", "flow 'hotline' in language 'de' is also defined in"),
])
def test_an_upload_under_a_wrong_name_is_refused(tmp_path, engine, name, message):
    live = LiveFlows(folder(tmp_path, "one", FIRST, age_seconds=60), archive(engine))
    result = live.store_upload(name, SECOND)
    assert not result.stored and message in result.messages[0]
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == ["hotline.yaml"]


def test_a_clean_upload_is_written_stored_and_served_everywhere(tmp_path, engine):
    live = LiveFlows(folder(tmp_path, "one", FIRST, age_seconds=60), archive(engine))
    other = server(folder(tmp_path, "two", FIRST, age_seconds=60), engine)
    result = live.store_upload("hotline.yaml", SECOND)
    assert result.stored and result.problems == []
    assert (tmp_path / "one" / "hotline.yaml").read_text(encoding="utf-8") == SECOND
    assert serving(live.current()) == SECOND
    other.sync()
    assert serving(other) == SECOND
    (overview,) = live.overview()
    assert overview.status.ok and overview.status.serving.text == SECOND
    assert [r.revision for r in overview.revisions] == [live.current().get("hotline", "de").revision,
                                                        other.by_revision(overview.revisions[1].revision).revision]
    assert overview.revisions[0].loaded_at >= overview.revisions[1].loaded_at


def test_uploading_an_older_text_again_makes_it_current(tmp_path, engine):
    live = LiveFlows(folder(tmp_path, "one", FIRST, age_seconds=60), archive(engine))
    assert live.store_upload("hotline.yaml", SECOND).stored
    assert live.store_upload("hotline.yaml", FIRST).stored
    assert serving(live.current()) == FIRST
    assert serving(server(folder(tmp_path, "two", SECOND, age_seconds=30), engine)) == FIRST


def test_a_copy_of_the_folder_keeps_serving_after_its_database_comes_back(tmp_path, database_url):
    engine = make_engine(database_url)  # not migrated: as if the database were down at start
    try:
        flows = FlowSet(folder(tmp_path, "one", FIRST), archive(engine))
        flows.reload()
        assert serving(flows) == FIRST and flows.unsaved
        upgrade(database_url)
        assert flows.sync() and not flows.unsaved
    finally:
        engine.dispose()

