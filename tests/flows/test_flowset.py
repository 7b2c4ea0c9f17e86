"""FlowSet: the server's flows; a broken edit never replaces a good flow, and old revisions stay loadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flows.flowset import FlowSet

MINIMAL = (Path(__file__).parent / "fixtures" / "valid" / "minimal.yaml").read_text(encoding="utf-8")


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "hotline.yaml").write_text(MINIMAL.replace("name: minimal", "name: hotline"), encoding="utf-8")
    english = MINIMAL.replace("name: minimal", "name: hotline").replace("language: de", "language: en")
    (tmp_path / "hotline.en.yaml").write_text(english, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "hotline.yaml").write_text("conversation tests live here\n", encoding="utf-8")
    return tmp_path


def test_loads_every_flow_of_the_directory_but_not_subfolders(folder):
    flows = FlowSet.load(folder)
    assert flows.problems == []
    assert [f.key for f in flows.flows()] == ["hotline:de", "hotline:en"]


def test_get_by_language_with_fallback(folder):
    flows = FlowSet.load(folder)
    assert flows.get("hotline", "en").language == "en"
    assert flows.get("hotline", "ko", fallback_language="de").language == "de"
    with pytest.raises(KeyError, match="no flow 'other' in language 'de'.*loaded: hotline:de, hotline:en"):
        flows.get("other", "de")


def test_broken_edit_keeps_the_last_good_flow_and_reports_why(folder):
    flows = FlowSet.load(folder)
    good = flows.get("hotline", "de")
    (folder / "hotline.yaml").write_text(MINIMAL.replace("kind: hangup", "kind: hangpu"), encoding="utf-8")
    problems = flows.reload()
    assert [str(p) for p in problems] == [
        f"{folder / 'hotline.yaml'}:17: node 'bye': unknown kind 'hangpu'; expected one of: ask, callback, "
        "condition, connect, goto, hangup, house_message, house_news, match, menu, message, say, send_details; did you mean 'hangup'?"
    ]
    assert flows.get("hotline", "de") is good


def test_a_good_edit_replaces_the_flow_and_old_revisions_stay_loaded(folder):
    flows = FlowSet.load(folder)
    old = flows.get("hotline", "de")
    edited = MINIMAL.replace("name: minimal", "name: hotline").replace("Auf Wiederhören.", "Tschüss.")
    (folder / "hotline.yaml").write_text(edited, encoding="utf-8")
    assert flows.reload() == []
    new = flows.get("hotline", "de")
    assert new.revision != old.revision
    assert flows.by_revision(old.revision) is old  # a call that began before the edit finishes on it
    assert flows.by_revision(new.revision) is new
    assert flows.by_revision("0" * 16) is None


def test_unchanged_files_keep_the_same_flow_object(folder):
    flows = FlowSet.load(folder)
    before = flows.get("hotline", "en")
    flows.reload()
    assert flows.get("hotline", "en") is before


def test_removed_file_removes_its_flow(folder):
    flows = FlowSet.load(folder)
    old = flows.get("hotline", "en")
    (folder / "hotline.en.yaml").unlink()
    flows.reload()
    assert [f.key for f in flows.flows()] == ["hotline:de"]
    assert flows.by_revision(old.revision) is old


def test_two_files_for_one_flow_keep_the_first_and_report_the_second(folder):
    (folder / "second.yaml").write_text(MINIMAL.replace("name: minimal", "name: hotline").replace("Hilfe", "Help"))
    flows = FlowSet.load(folder)
    assert [str(p) for p in flows.problems] == [
        f"{folder / 'second.yaml'}:2: flow 'hotline' in language 'de' is also defined in {folder / 'hotline.yaml'}"
    ]
    assert "Hilfe" in flows.get("hotline", "de").text


def test_missing_directory_is_a_problem_not_a_crash(tmp_path):
    flows = FlowSet.load(tmp_path / "nowhere")
    assert [str(p) for p in flows.problems] == [f"{tmp_path / 'nowhere'}:1: no such directory"]
    assert flows.flows() == []
