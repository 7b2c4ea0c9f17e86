"""The terminal simulator and the flow conversation tests, through the real CLI and the demo directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.flows.flowset import FlowSet
from ivr.simulator.conversation import parse_tests, run_test
from tests.conftest import FLOWS_DIR, ROOT

ERIKA = "+49 30 23125301"


def hausruf(*args: str, stdin: str = "", env_extra: dict | None = None, tmp_path: Path | None = None):
    """Run the installed console script like a user would, with its own empty database."""
    import os

    env = dict(os.environ)
    if tmp_path is not None:
        env["HAUSRUF_DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env.update(env_extra or {})
    return subprocess.run([str(Path(sys.executable).parent / "hausruf"), *args], input=stdin, text=True,
                          capture_output=True, env=env, cwd=ROOT, timeout=120)


def test_piped_key_5_books_an_it_helper_callback(tmp_path):
    result = hausruf("call", "--from", ERIKA, "--at", "2026-03-04 10:00", stdin="5\n", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "call from +49 30 23125301: Frau Becker (Lindenhof, Siegen), language de"
    assert "hotline says: Guten Tag, Frau Becker. Hier ist das Haustelefon Ihrer Genossenschaft." in lines
    assert "hotline says: Technik: die 5." in lines
    assert "caller: presses 5" in lines
    assert "hotline books a callback for volunteers: Hilfe mit Telefon, Computer oder Haus-Chat" in lines
    assert lines[-1] == "caller hangs up"
    assert "using" in result.stderr and "data/demo" in result.stderr


def test_piped_words_silence_and_dial_outcomes(tmp_path):
    script = "\n".join(["Einkauf", "busy", "", "", "", "hangup"]) + "\n"
    result = hausruf("call", "--from", ERIKA, "--at", "2026-03-04 10:00", stdin=script, tmp_path=tmp_path)
    out = result.stdout
    assert "caller: says 'Einkauf'" in out
    assert "hotline dials partner:Frischekorb" in out
    assert "hotline says: Dort hat leider niemand abgenommen." in out
    assert "caller: (silence)" in out
    assert "hotline books a callback for staff" in out


def test_unknown_caller_in_the_terminal(tmp_path):
    result = hausruf("call", "--from", "0171 0000000", "--at", "2026-03-04 10:00", stdin="", tmp_path=tmp_path)
    assert result.stdout.splitlines()[0] == "call from 0171 0000000: unknown caller"
    assert "hotline says: Guten Tag. Hier ist das Haustelefon der Wohnungsgenossenschaft." in result.stdout


def test_bad_input_at_a_dial_is_explained_not_fatal(tmp_path):
    result = hausruf("call", "--from", ERIKA, "--at", "2026-03-04 10:00", stdin="1\nmaybe\ncompleted\n",
                     tmp_path=tmp_path)
    assert "at a dial, type one of: completed, answered, busy, no-answer, failed, canceled" in result.stderr
    assert "outcome: connected groceries" in result.stdout


def test_hausruf_test_runs_the_demo_conversations(tmp_path):
    result = hausruf("test", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].endswith(" passed, 0 failed")


@pytest.mark.parametrize("path", sorted((FLOWS_DIR / "tests").glob("*.yaml")), ids=lambda p: p.name)
def test_every_demo_conversation_passes(path):
    from ivr.simulator.directory import DirectoryContexts
    from ivr.config import Settings

    flows = FlowSet.load(FLOWS_DIR)
    tests, problems = parse_tests(path.read_text(encoding="utf-8"), str(path))
    assert problems == []
    with DirectoryContexts(Settings.from_env(), str(ROOT / "data" / "demo")) as contexts:
        failures = [str(r) for t in tests
                    if not (r := run_test(t, lambda lang, t=t: flows.get(t.flow, lang, "de"), contexts.context)).passed]
    assert failures == []


FAILING = """
version: 1
flow: hotline
tests:
  - name: expects the wrong menu
    caller: {known: true, salutation: Frau Becker, house: lindenhof, region: siegen}
    steps:
      - press: "4"
      - asks: main_menu
"""


def test_a_failing_expectation_names_its_line_and_what_happened():
    flows = FlowSet.load(FLOWS_DIR)
    tests, problems = parse_tests(FAILING, "inline.yaml")
    result = run_test(tests[0], lambda lang: flows.get("hotline", lang, "de"))
    assert str(result) == "FAIL inline.yaml:9: expects the wrong menu: expected menu 'main_menu'; asked: care_menu"


@pytest.mark.parametrize("text, message", [
    ("version: 2\ntests: []\n", "inline.yaml:1: conversation tests need 'version: 1' at the top"),
    ("version: 1\ntests:\n  - name: x\n    steps: [press: '1']\n",
     "inline.yaml:3: test 'x': 'caller' is required (a number or caller facts)"),
    ("version: 1\ntests:\n  - name: x\n    caller: {known: true}\n    steps:\n      - jump: 1\n",
     "inline.yaml:6: unknown step 'jump'; expected one of: press, say, silence, dial, record, hangup, hears, "
     "not_hears, asks, dials, whisper, books, outcome, ends"),
    ("version: 1\ntests:\n  - name: x\n    caller: {known: true}\n    services: {pizza: open}\n    steps: [ends: true]\n",
     "inline.yaml:5: unknown service 'pizza'; expected one of: groceries, meals, home_emergency, home_care, day_care"),
    ("version: 1\ntests:\n  - name: x\n    caller: {known: true}\n    at: tomorrow\n    steps: [ends: true]\n",
     "inline.yaml:5: 'at' must look like '2026-03-04 10:00', got 'tomorrow'"),
    ("version: 1\ntests: [\n", "inline.yaml:3: YAML syntax error: expected the node content, but found '<stream end>'"),
])
def test_broken_conversation_files_are_reported_with_line(text, message):
    _, problems = parse_tests(text, "inline.yaml")
    assert [str(p) for p in problems] == [message]


def test_click_runner_reports_failures_with_exit_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(FAILING, encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(bad)])
    assert result.exit_code == 1
    assert "expected menu 'main_menu'; asked: care_menu" in result.output
    assert result.output.splitlines()[-1] == "0 passed, 1 failed"


def test_the_committed_json_schema_is_current():
    import json

    result = CliRunner().invoke(main, ["schema"])
    assert json.loads(result.output) == json.loads((ROOT / "docs" / "flow.schema.json").read_text(encoding="utf-8")), \
        "run `make docs` to refresh docs/flow.schema.json"
