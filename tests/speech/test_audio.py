"""Telephone audio conversion: mu-law, resampling, WAV files, media-stream frames."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from speech.audio import (
    FRAME_BYTES,
    MULAW_SILENCE,
    convert_to_telephone_wav,
    frames,
    mulaw_to_pcm,
    pcm_to_mulaw,
    read_wav,
    resample,
    write_wav,
)


def test_every_mulaw_code_survives_a_round_trip():
    codes = bytes(range(256))
    again = pcm_to_mulaw(mulaw_to_pcm(codes))
    # 0x7F and 0xFF are both zero (G.711 has a negative and a positive zero); the encoder picks 0xFF.
    assert [a for a, b in zip(again, codes) if a != b] == [0xFF]


def test_mulaw_keeps_a_tone_within_its_quantisation_error():
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype(np.int16)
    decoded = mulaw_to_pcm(pcm_to_mulaw(tone)).astype(np.float64)
    snr = 10 * np.log10(np.sum(tone.astype(np.float64) ** 2) / np.sum((decoded - tone) ** 2))
    assert snr > 30  # G.711 mu-law gives ~38 dB on a loud tone


@pytest.mark.parametrize("value, code", [(0, 0xFF), (32767, 0x80), (-32768, 0x00)])
def test_mulaw_codes_match_g711(value, code):
    assert pcm_to_mulaw(np.array([value], dtype=np.int16)) == bytes([code])


def test_frames_are_twenty_milliseconds_and_the_last_is_padded_with_silence():
    sliced = list(frames(b"\x00" * (FRAME_BYTES * 2 + 10)))
    assert [len(f) for f in sliced] == [FRAME_BYTES] * 3 == [160] * 3
    assert sliced[-1][10:] == bytes([MULAW_SILENCE]) * 150


def test_any_wav_becomes_8_khz_mono(tmp_path):
    source = tmp_path / "stereo.wav"
    left = (10000 * np.sin(2 * np.pi * 300 * np.arange(44100) / 44100)).astype("<i2")
    with wave.open(str(source), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(np.column_stack([left, left]).tobytes())
    target = convert_to_telephone_wav(source, tmp_path / "phone.wav")
    samples, rate = read_wav(target)
    assert rate == 8000
    assert abs(len(samples) - 8000) <= 1
    assert 6000 < np.abs(samples).max() < 11000


def test_write_wav_leaves_no_temporary_files(tmp_path):
    write_wav(tmp_path / "a.wav", resample(np.zeros(160, np.int16), 8000, 16000), 16000)
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]
