"""Menus older callers can follow: the listening-time estimate, its calibration, and the warning above 25 s."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from ivr.engine import Ask, CallContext, CallStarted, CallState, advance
from ivr.flows.listening import PAUSE_SECONDS, SPEAKING_RATE, menu_listening, menu_segments, speaking_seconds
from ivr.flows.loader import check_paths, load_flow_file
from speech.prompts import DEFAULT_RATE, PromptRenderer

ROOT = Path(__file__).resolve().parents[2]
DEMO = [ROOT / "flows" / "hotline.yaml", ROOT / "flows" / "hotline.en.yaml"]


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


@pytest.mark.parametrize("flow_file", DEMO, ids=[p.name for p in DEMO])
def test_the_estimate_matches_rendered_audio_within_8_percent(flow_file, tmp_path):
    """Calibration: the main menu rendered by espeak-ng (pyttsx3, as callers hear it) against the estimate."""
    flow = load_flow_file(flow_file)
    intro, announced = menu_segments(flow.nodes["main_menu"], flow.globals)
    renderer = PromptRenderer(tmp_path / "cache")
    assert renderer.rate == SPEAKING_RATE == DEFAULT_RATE
    rendered = sum(_seconds(renderer.render(text, flow.language)[0]) for text in intro + announced)
    rendered += PAUSE_SECONDS * (len(intro) + len(announced) - 1)
    estimated = menu_listening(flow.nodes["main_menu"], flow.globals).total
    assert abs(estimated - rendered) / rendered < 0.08, (estimated, rendered)
    assert rendered < 25 and estimated < 25


def test_the_demo_flows_have_no_menu_length_warning():
    assert [str(p) for p in check_paths([str(p) for p in DEMO])] == []


def test_a_menu_made_longer_than_25_seconds_is_warned_about(tmp_path, monkeypatch):
    text = DEMO[0].read_text(encoding="utf-8").replace('"Bitte wählen Sie."', '"Drücken Sie eine Taste oder sagen Sie ein Wort."')
    text = text.replace('"Einkauf: die 1."', '"Einkäufe nach Hause: die 1, oder sagen Sie Einkauf."')
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "hotline.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row == "  main_menu:")
    assert [str(p) for p in check_paths(["flows/hotline.yaml"])] == [
        f"flows/hotline.yaml:{line}: warning: node 'main_menu': callers listen about 28.4 s before they have heard "
        "every option (20.4 s of speech, 8 s of pauses, 4.1 s before the first option); keep a menu under 25 s: "
        "a shorter introduction, shorter option texts, fewer options"
    ]


@pytest.mark.parametrize("text, seconds", [
    ("Einkauf: die 1.", 1.85),  # 14 letters (the digit counts four) and two marks
    ("Guten Tag, {{ caller.salutation }}.", 2.12),  # a variable counts ten letters
    ("{% if caller.known %}Hallo{% endif %}", 0.35),  # tags are not spoken
])
def test_speaking_time_is_counted_from_letters_and_marks(text, seconds):
    assert speaking_seconds(text) == pytest.approx(seconds, abs=0.01)
    assert speaking_seconds(text, rate=2 * SPEAKING_RATE) == pytest.approx(seconds / 2, abs=0.01)


def test_the_pause_is_the_one_the_twilio_adapter_plays():
    from ivr.telephony.twilio.translate import PAUSE_SECONDS as TWILIO_PAUSE

    assert PAUSE_SECONDS == TWILIO_PAUSE


def test_the_closing_is_spoken_last_after_the_globals(tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    flow = load_flow_file(DEMO[0])
    context = CallContext(now=datetime(2026, 3, 4, 10, tzinfo=ZoneInfo("Europe/Berlin")))
    _, actions = advance(flow, CallState(), CallStarted(), context)
    ask = next(a for a in actions if isinstance(a, Ask))
    assert ask.segments[-3:] == ("Mensch: die 0.", "Notfall: die 9.", "Nochmal: Stern-Taste.")
