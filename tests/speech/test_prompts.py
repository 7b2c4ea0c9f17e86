"""Prompt rendering with the real pyttsx3 and espeak-ng: 8 kHz files, cache, recorded overrides."""

from __future__ import annotations

import threading
import wave

import numpy as np
import pytest

from ivr.flows.loader import load_flow_file
from ivr.flows.model import Flow, MenuNode, Option, Prompt, Retry, SayNode, Where
from speech.audio import read_wav, write_wav
from speech.commands import build_prompts
from speech.flowtexts import collect_prompt_texts
from speech.prompts import PromptRenderer, list_prompts
from tests.flows.flowtext import HEAD

HERE = Where("flows/test.yaml", 1)
FLOW_TEXT = HEAD + """\
nodes:
  menu:
    kind: menu
    prompt: "Bitte wählen Sie."
    options:
      - {key: "1", label: Einkauf, keywords: [einkauf], say: "Für den Einkauf drücken Sie die 1.", goto: bye}
    no_input: {then: bye}
    no_match: {then: bye}
  bye: {kind: hangup, prompt: "Auf Wiederhören."}
"""


@pytest.fixture
def renderer(tmp_path):
    return PromptRenderer(tmp_path / "cache", overrides_dir=tmp_path / "recorded")


@pytest.mark.parametrize("text, language", [("Guten Tag, hier ist das Haustelefon.", "de"), ("안녕하세요, 장보기는 일번.", "ko")])
def test_a_prompt_renders_to_audible_8_khz_mono(renderer, text, language):
    path, rendered_now = renderer.render(text, language)
    assert rendered_now and path == renderer.path_for(text, language)
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() / 8000 > 0.3
    samples, _ = read_wav(path)
    assert np.sqrt(np.mean(samples.astype(float) ** 2)) > 500  # speech, not silence


def test_a_second_render_uses_the_cache_and_any_setting_change_renders_anew(renderer, tmp_path):
    first, _ = renderer.render("Auf Wiederhören.", "de")
    again, rendered_now = renderer.render("Auf Wiederhören.", "de")
    assert (again, rendered_now) == (first, False)
    slower = PromptRenderer(tmp_path / "cache", rate=120)
    assert slower.path_for("Auf Wiederhören.", "de") != first


def test_a_recorded_prompt_wins_and_is_converted_once(tmp_path):
    flows = tmp_path / "flows"
    (flows / "prompts" / "de").mkdir(parents=True)
    (flows / "t.yaml").write_text(FLOW_TEXT, encoding="utf-8")
    renderer = PromptRenderer(tmp_path / "cache", overrides_dir=flows / "prompts")
    text = "Für den Einkauf drücken Sie die 1."
    renderer.render(text, "de")
    [(audio, recorded, prompt)] = [row for row in list_prompts(flows / "prompts", [load_flow_file(flows / "t.yaml")])
                                   if row[2].text == text]
    assert (audio, recorded, prompt.name) == (flows / "prompts" / "de" / "menu.option1.wav", False, "menu.option1")
    tone = (9000 * np.sin(2 * np.pi * 440 * np.arange(44100) / 44100)).astype(np.int16)
    write_wav(audio, tone, 44100)
    renderer.recordings.CHECK_EVERY_SECONDS = 0  # no waiting for the next look at the folder
    path, rendered_now = renderer.render(text, "de")
    samples, rate = read_wav(path)
    assert rendered_now and rate == 8000 and abs(len(samples) - 8000) <= 1
    assert renderer.render(text, "de") == (path, False)


def test_renders_from_many_threads_all_arrive(renderer):
    texts = [f"Prompt Nummer {n}." for n in range(6)]
    results = {}
    threads = [threading.Thread(target=lambda t=t: results.update({t: renderer.render(t, "de")})) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[t][0].stat().st_size > 44 for t in texts)
    assert len({results[t][0] for t in texts}) == len(texts)


def _flow() -> Flow:
    retry = Retry(1, "bye", HERE, Prompt(("Bitte noch einmal.",), HERE))
    menu = MenuNode(
        "menu",
        HERE,
        Prompt(("Guten Tag, {{ caller.salutation }}.", "Wählen Sie bitte."), HERE),
        (Option("1", "Einkauf", "bye", HERE, ("einkauf",), say=Prompt(("Einkauf: die 1.",), HERE)),),
        10,
        retry,
        retry,
    )
    return Flow("t", "de", "menu", {"menu": menu, "bye": SayNode("bye", HERE, Prompt(("Tschüss.",), HERE), "menu")}, {}, HERE, "r1")


def test_prompt_texts_are_collected_from_nodes_options_and_retries_without_templates():
    assert collect_prompt_texts([_flow()]) == [
        ("Wählen Sie bitte.", "de"),
        ("Einkauf: die 1.", "de"),
        ("Bitte noch einmal.", "de"),
        ("Tschüss.", "de"),
    ]


def test_build_renders_every_prompt_once(renderer):
    assert build_prompts([_flow()], renderer) == (4, 0, 1)
    assert build_prompts([_flow()], renderer) == (0, 4, 1)
