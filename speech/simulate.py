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
