"""End of speech from frame levels: noise floor, the word's own peak, pauses, clicks."""

from __future__ import annotations

import numpy as np

from speech.audio import mulaw_level_db, pcm_to_mulaw
from speech.endpoint import END, NOISE, PAUSE, SILENCE, SPEECH, EndOfSpeech


def states(levels: list[float], endpoint: EndOfSpeech | None = None) -> list[str]:
    endpoint = endpoint or EndOfSpeech(pause_frames=6, end_frames=10)
    return [endpoint.push(level) for level in levels]


def test_quiet_line_is_silence():
    assert set(states([0.0] * 50 + [30.0] * 50)) == {SILENCE}


def test_a_fading_tail_far_below_the_peak_counts_as_quiet():
    # 40 dB is loud in absolute terms, but 35 dB under the word's peak: espeak's fade, not speech.
    said = states([0.0] * 10 + [75.0] * 20 + [40.0] * 10)
    assert said[10:30] == [SPEECH] * 20
    assert said[30:] == [SPEECH] * 5 + [PAUSE] * 4 + [END]


def test_a_pause_inside_a_word_does_not_end_it():
    said = states([0.0] * 10 + [75.0] * 10 + [0.0] * 5 + [75.0] * 10 + [0.0] * 10)
    assert END not in said[:35] and PAUSE not in said[:35]
    assert said[-1] == END


def test_a_click_is_noise_and_the_next_word_starts_afresh():
    endpoint = EndOfSpeech(pause_frames=6, end_frames=10)
    assert states([0.0] * 10 + [80.0] * 2 + [0.0] * 10, endpoint)[-1] == NOISE
    # The click's loud peak is forgotten: a quieter word after it is speech again.
    assert states([0.0] * 5 + [60.0] * 10, endpoint)[5:] == [SPEECH] * 10


def test_steady_noise_raises_the_floor_and_speech_must_rise_above_it():
    said = states([50.0] * 30 + [55.0] * 10 + [70.0] * 10)
    assert set(said[:40]) == {SILENCE}
    assert said[40:] == [SPEECH] * 10


def test_level_of_mulaw_frames():
    assert mulaw_level_db(pcm_to_mulaw(np.zeros(160, np.int16))) == 0.0
    tone = (10000 * np.sin(np.arange(160) / 3)).astype(np.int16)
    assert 76 < mulaw_level_db(pcm_to_mulaw(tone)) < 78  # a sine's mean square is A^2 / 2: 10 log10(5e7) = 77


def test_on_a_line_that_is_never_quiet_only_an_utterance_clearly_above_it_stands_out():
    # A TV across the room: sentences at 60 dB with short pauses at 40 dB, for 3 s. The floor follows
    # the pauses, so each sentence is "speech"; but none rises above the line's own loud moments.
    endpoint = EndOfSpeech(pause_frames=6, end_frames=10)
    tv = ([60.0] * 20 + [40.0] * 12) * 5
    said = states(tv, endpoint)
    assert END in said and not endpoint.stood_out
    # The caller speaks into the phone, 10 dB over the TV: that stands out.
    states([72.0] * 20 + [40.0] * 10, endpoint)
    assert endpoint.stood_out
    # Her word was not the line: the next one at the same loudness stands out as well ("um, ... X").
    states([40.0] * 5 + [71.0] * 20 + [40.0] * 10, endpoint)
    assert endpoint.stood_out
    # The TV again: not out.
    states([61.0] * 20 + [40.0] * 10, endpoint)
    assert not endpoint.stood_out


def test_without_the_line_level_rule_or_a_line_heard_every_utterance_stands_out():
    endpoint = EndOfSpeech(pause_frames=6, end_frames=10, line_margin_db=None)
    states(([60.0] * 20 + [40.0] * 12) * 5, endpoint)
    assert endpoint.stood_out
    # A word after only 60 ms of a quiet line: nothing loud to compare with, so it may decide.
    fresh = EndOfSpeech(pause_frames=6, end_frames=10)
    states([0.0] * 3 + [60.0] * 20 + [0.0] * 10, fresh)
    assert fresh.stood_out


def test_a_loud_line_not_yet_heard_for_half_a_second_is_the_room():
    # A stream that begins inside the TV's pause: its next sentence is 20 dB over that pause, but the
    # line has not been heard long enough to know the TV's level, so it does not stand out.
    endpoint = EndOfSpeech(pause_frames=6, end_frames=10)
    states([45.0] * 10 + [65.0] * 20 + [40.0] * 10, endpoint)
    assert not endpoint.stood_out and endpoint.room_utterances == 1
