"""Menu recognition with the real Vosk decoder, the real Korean model and espeak-ng speech."""

from __future__ import annotations

import numpy as np
import pytest

from speech.audio import FRAME_BYTES, MULAW_SILENCE, frames, mulaw_to_pcm, pcm_to_mulaw
from speech.models import MissingModelError, model_sample_rate
from speech.recognizer import Match, MenuRecognizer, missing_words
from speech.simulate import recognize_frames, synthesize_frames
from tests.speech.conftest import KOREAN_MODEL, MENU, SPOKEN_MENU_WORDS

PAUSE = [bytes([MULAW_SILENCE]) * FRAME_BYTES] * 15  # 300 ms, as between prompt and answer


def test_menu_words_are_in_the_vocabulary_and_a_made_up_word_is_not(korean_model):
    assert missing_words(korean_model, MENU) == []
    assert missing_words(korean_model, ["장보기", "뷁쀍 안내", "뷁쀍"]) == ["뷁쀍"]


@pytest.mark.parametrize("word", SPOKEN_MENU_WORDS)
def test_a_spoken_menu_word_is_picked(korean_model, word):
    recognizer = MenuRecognizer(korean_model, MENU)
    match = recognize_frames(recognizer, PAUSE + synthesize_frames(word) + PAUSE * 2)
    assert isinstance(match, Match)
    assert match.phrase == word
    assert match.confidence >= recognizer.min_posterior


def speech_end(stream: list[bytes]) -> int:
    """The last frame at least 10% as loud as the loudest (the end of speech bench/speech.py measures from)."""
    levels = [np.abs(mulaw_to_pcm(frame).astype(float)).mean() for frame in stream]
    return max(i for i, level in enumerate(levels) if level >= 0.1 * max(levels))


@pytest.mark.parametrize("word", SPOKEN_MENU_WORDS)
def test_the_decision_comes_well_within_300_ms_of_the_end_of_speech(korean_model, word):
    recognizer = MenuRecognizer(korean_model, MENU)
    stream = PAUSE + synthesize_frames(word) + PAUSE * 2
    decided = next(i for i, frame in enumerate(stream) if recognizer.feed_mulaw(frame) is not None)
    # Counted in frames, not timed: the fade below the word's peak is quiet, and a 120 ms pause ends
    # the word when Vosk's partial result is one menu phrase; Vosk alone would wait 500 ms.
    assert 0 < (decided - speech_end(stream)) * 20 <= 240


def test_a_phrase_that_begins_a_longer_one_waits_for_the_full_quiet(korean_model):
    stream = PAUSE + synthesize_frames("라면") + PAUSE * 2
    quick, patient = MenuRecognizer(korean_model, MENU), MenuRecognizer(korean_model, [*MENU, "라면 사람"])
    quick_at = next(i for i, frame in enumerate(stream) if quick.feed_mulaw(frame) is not None)
    patient_at = next(i for i, frame in enumerate(stream) if patient.feed_mulaw(frame) is not None)
    assert patient_at - quick_at >= 4  # 200 ms end instead of the 120 ms pause: "사람" might follow


@pytest.mark.parametrize("quiet", ["digital silence", "line noise"])
def test_a_word_after_a_long_prompt_is_picked(korean_model, quiet):
    # While the prompt plays, only the last 500 ms of the line are kept for Vosk (speech.recognizer).
    rng = np.random.default_rng(5)
    line = PAUSE * 20 if quiet == "digital silence" else list(frames(pcm_to_mulaw(rng.normal(0, 30, 48000))))
    match = recognize_frames(MenuRecognizer(korean_model, MENU), line + synthesize_frames("라면") + PAUSE * 2)
    assert match is not None and match.phrase == "라면"


def test_a_click_before_the_word_does_not_hide_it(korean_model):
    click = list(frames(pcm_to_mulaw(np.full(320, 20000, np.int16))))
    stream = PAUSE * 3 + click + PAUSE * 2 + synthesize_frames("라면") + PAUSE * 2
    match = recognize_frames(MenuRecognizer(korean_model, MENU), stream)
    assert match is not None and match.phrase == "라면"


@pytest.mark.parametrize(
    "name, stream",
    [
        ("silence", PAUSE * 10),
        ("white noise", list(frames(pcm_to_mulaw(np.random.default_rng(6).normal(0, 3000, 24000).astype(np.int16))))),
        ("loud noise", list(frames(pcm_to_mulaw(np.random.default_rng(7).normal(0, 10000, 24000).clip(-32000, 32000))))),
    ],
)
def test_silence_and_noise_pick_nothing(korean_model, name, stream):
    assert recognize_frames(MenuRecognizer(korean_model, MENU), stream) is None


@pytest.mark.parametrize("word", ["학교", "택시", "김치"])
def test_a_word_outside_the_menu_picks_nothing(korean_model, word):
    assert missing_words(korean_model, [word]) == []  # a real word the model knows, just not on the menu
    recognizer = MenuRecognizer(korean_model, MENU)
    assert recognize_frames(recognizer, PAUSE + synthesize_frames(word) + PAUSE * 2) is None


def test_a_phrase_with_an_unknown_word_is_left_out_of_the_grammar(korean_model):
    recognizer = MenuRecognizer(korean_model, ["안내", "뷁쀍 라면"])
    assert recognizer.phrases == ("안내",)
    assert recognize_frames(recognizer, PAUSE + synthesize_frames("라면") + PAUSE * 2) is None


def test_resampling_to_the_model_rate_also_works(korean_model):
    assert model_sample_rate(KOREAN_MODEL) == 16000
    recognizer = MenuRecognizer(korean_model, MENU, sample_rate=16000)
    assert recognize_frames(recognizer, PAUSE + synthesize_frames("라면") + PAUSE * 2).phrase == "라면"


def test_the_registry_loads_a_model_once_and_names_the_setting_for_a_missing_language(registry):
    assert registry.get("KO") is registry.get("ko")
    with pytest.raises(MissingModelError, match="HAUSRUF_VOSK_MODEL_DE"):
        registry.get("de")
