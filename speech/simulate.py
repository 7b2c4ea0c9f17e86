"""Audio for the local simulator and tests: words spoken by espeak-ng, WAV files run through a menu recogniser."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from speech.audio import FRAME_BYTES, MULAW_SILENCE, TELEPHONE_RATE, frames, pcm_to_mulaw, read_wav, to_telephone
from speech.recognizer import Match, MenuRecognizer


def synthesize_pcm(text: str, voice: str = "ko", speed: int = 175) -> tuple[np.ndarray, int]:
    """Speak text with espeak-ng; returns (16-bit PCM at 8 kHz, 8000)."""
    with tempfile.TemporaryDirectory(prefix="hausruf-say-") as folder:
        wav = Path(folder) / "say.wav"
        # "--" ends the options, so a word can never be read as one.
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), "--", text],
            check=True,
            capture_output=True,
        )
        samples, rate = read_wav(wav)
    return to_telephone(samples, rate), TELEPHONE_RATE


# A TV in the room for tests and the simulator: a news reader (espeak-ng, a voice the menus are not
# tested with) over a chord progression, as bench/speech_set.py makes it for the evaluation set.
TV_NEWS = ("오늘 서울은 맑고 낮 기온은 이십 도까지 오르겠습니다", "정부는 내년 예산안을 국회에 제출했습니다")
TV_CHORDS = ((220, 277, 330), (196, 247, 294), (175, 220, 262), (165, 208, 247))


def tv_pcm(seconds: float, rms: float) -> np.ndarray:
    """`seconds` of a TV (a voice reading news over music) at the given RMS, as 16-bit PCM at 8 kHz."""
    news = np.concatenate([synthesize_pcm(text, "ko+m5", 150)[0] for text in TV_NEWS]).astype(np.float64)
    t = np.arange(len(news)) / TELEPHONE_RATE
    which = (t // 1.5).astype(int) % len(TV_CHORDS)
    music = sum(np.sin(2 * np.pi * np.array([c[k] for c in TV_CHORDS])[which] * t) for k in range(3))
    unit = lambda x: x / np.sqrt(np.mean(x**2))  # noqa: E731
    tv = unit(unit(news) + 0.5 * unit(music))
    tv = np.tile(tv, int(seconds * TELEPHONE_RATE) // len(tv) + 1)[: int(seconds * TELEPHONE_RATE)]
    return np.clip(tv * rms, -32768, 32767).astype(np.int16)


def synthesize_frames(text: str, voice: str = "ko", speed: int = 175) -> list[bytes]:
    """Speak text as the 20 ms mu-law frames a Twilio media stream would carry."""
    samples, _ = synthesize_pcm(text, voice, speed)
    return list(frames(pcm_to_mulaw(samples)))


def recognize_frames(recognizer: MenuRecognizer, stream: list[bytes]) -> Match | None:
    """Feed frames one by one as a media stream would; the first match wins, else flush at the end."""
    for frame in stream:
        match = recognizer.feed_mulaw(frame)
        if match is not None:
            return match
    return recognizer.finish()


def recognize_wav(recognizer: MenuRecognizer, path: str | os.PathLike) -> Match | None:
    """Run a menu recogniser over a WAV file (any rate), for `hausruf call --audio FILE.wav`."""
    samples, rate = read_wav(path)
    # A caller is quiet before and after the word; a recording cut tight to the word is not, and the
    # recogniser's end-of-speech rule needs the quiet after it (speech.endpoint).
    quiet = [bytes([MULAW_SILENCE]) * FRAME_BYTES]
    spoken = list(frames(pcm_to_mulaw(to_telephone(samples, rate))))
    return recognize_frames(recognizer, quiet * 15 + spoken + quiet * 50)
