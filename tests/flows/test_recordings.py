"""Human recordings belong to a prompt by node and name, keep working when its text is edited, and are checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.flows.loader import parse_flow_text
from speech.flowtexts import named_prompts
from speech.prompts import PromptRenderer
from tests.flows.flowtext import HEAD

NODES = """\
nodes:
  menu:
    kind: menu
    prompt: "Bitte wählen."
    options:
      - {key: "1", label: Eins, keywords: [eins], say: "Eins: die 1.", goto: bye}
    no_input: {prompt: "Nichts gehört.", then: bye}
    no_match: {then: closed}
    closing: "Nochmal: Stern."
  closed:
    kind: say
    prompt: ["{{ service.partner_name }} hat zu.", "Bitte später."]
    next: bye
  bye: {kind: hangup, prompt: "Auf Wiederhören."}
"""
FLOW = HEAD + NODES


def test_every_prompt_has_a_name_by_node_and_place():
    flow, problems = parse_flow_text(FLOW, "t.yaml")
    assert flow is not None, problems
    assert [(p.name, p.subject, p.text) for p in named_prompts(flow)] == [
        ("menu", "node 'menu' prompt", "Bitte wählen."),
        ("menu.option1", "node 'menu' options[0].say", "Eins: die 1."),
        ("menu.no_input", "node 'menu' no_input.prompt", "Nichts gehört."),
        ("menu.closing", "node 'menu' closing", "Nochmal: Stern."),
        ("closed.1", "node 'closed' prompt[0]", "{{ service.partner_name }} hat zu."),
        ("closed.2", "node 'closed' prompt[1]", "Bitte später."),
        ("bye", "node 'bye' prompt", "Auf Wiederhören."),
        ("globals.emergency", "globals.emergency.say", "Notfall: die 9."),
        ("globals.emergency.advice", "globals.emergency.advice", "Legen Sie auf und wählen Sie 112."),
    ]


@pytest.fixture
def flows(tmp_path, monkeypatch):
    """A flows folder with one flow and a recording of its menu prompt, made for its current words."""
    folder = tmp_path / "flows"
    (folder / "prompts" / "de").mkdir(parents=True)
    (folder / "t.yaml").write_text(FLOW, encoding="utf-8")
    (folder / "prompts" / "de" / "menu.wav").write_bytes(b"RIFF....WAVE")
    (folder / "prompts" / "de" / "menu.txt").write_text("Bitte wählen.\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return folder


def test_a_recording_follows_its_prompt_when_the_text_is_edited(flows, tmp_path):
    renderer = PromptRenderer(tmp_path / "cache", overrides_dir=flows / "prompts")
    renderer.recordings.CHECK_EVERY_SECONDS = 0
    recording = flows / "prompts" / "de" / "menu.wav"
    assert renderer.override_path("Bitte wählen.", "de") == recording
    assert renderer.override_path("Eins: die 1.", "de") is None
    edited = FLOW.replace('prompt: "Bitte wählen."', 'prompt: "Bitte wählen Sie jetzt."')
    (flows / "t.yaml").write_text(edited, encoding="utf-8")
    assert renderer.override_path("Bitte wählen Sie jetzt.", "de") == recording
    assert renderer.override_path("Bitte wählen.", "de") is None


def check(flows: Path):
    result = CliRunner().invoke(main, ["check", "flows"])
    return result.exit_code, result.stdout.splitlines(), result.stderr.splitlines()


UNRECORDED = ("flows/prompts/de: {count} of 8 prompts of flows/t.yaml have no recording (callers hear the synthetic "
              "voice): {names}")
OTHERS = "menu.option1, menu.no_input, menu.closing, closed.2, bye, globals.emergency, globals.emergency.advice"


def test_check_is_quiet_about_a_recording_that_matches_and_lists_the_rest(flows):
    assert check(flows) == (0, [], [UNRECORDED.format(count=7, names=OTHERS), "0 errors, 0 warnings in 1 file"])


def test_check_warns_when_the_prompt_changed_since_the_recording(flows):
    (flows / "t.yaml").write_text(FLOW.replace('"Bitte wählen."', '"Bitte wählen Sie."'), encoding="utf-8")
    code, out, _ = check(flows)
    assert (code, out) == (0, [
        "flows/t.yaml:11: warning: node 'menu' prompt: the recording flows/prompts/de/menu.wav says 'Bitte wählen.', "
        "but the prompt now says 'Bitte wählen Sie.'; record it again and write the new words into menu.txt"
    ])


def test_check_warns_about_a_recording_without_its_text_and_one_no_prompt_owns(flows):
    (flows / "prompts" / "de" / "menu.txt").unlink()
    (flows / "prompts" / "de" / "menue.option1.wav").write_bytes(b"RIFF....WAVE")
    code, out, _ = check(flows)
    assert (code, out) == (0, [
        "flows/prompts/de/menue.option1.wav:1: warning: no prompt of flow 't' (de) is named 'menue.option1', so callers "
        "never hear this recording; did you mean 'menu.option1.wav'? (`hausruf prompts list` shows the names)",
        "flows/t.yaml:11: warning: node 'menu' prompt: the recording flows/prompts/de/menu.wav has no text file "
        "menu.txt; write the words it says into it, so that a change of the prompt is noticed",
    ])


def test_without_a_recording_folder_check_says_nothing_about_recordings(flows):
    for path in sorted((flows / "prompts").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (flows / "prompts").rmdir()
    assert check(flows) == (0, [], ["0 errors, 0 warnings in 1 file"])
