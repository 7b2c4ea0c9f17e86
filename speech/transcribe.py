"""Spoken messages to text: the full vocabulary, offline, for a recording at any rate."""

from __future__ import annotations

import json
import os

import vosk

from speech.audio import read_wav
from speech.models import UNKNOWN_TOKENS

CHUNK_SECONDS = 0.5


def transcribe_wav(path: str | os.PathLike, model: vosk.Model) -> str:
    """The words of a recorded message; unknown-word markers are left out."""
    samples, rate = read_wav(path)
    # No grammar: the model's own language model decodes free speech. Vosk resamples any input rate
    # to the model's (mfcc.conf --allow-upsample/--allow-downsample), so the file's rate is passed as is.
    recognizer = vosk.KaldiRecognizer(model, rate)
    texts = []
    step = max(1, int(rate * CHUNK_SECONDS))
    for start in range(0, len(samples), step):
        if recognizer.AcceptWaveform(samples[start : start + step].tobytes()):
            texts.append(json.loads(recognizer.Result()).get("text", ""))
    texts.append(json.loads(recognizer.FinalResult()).get("text", ""))
    words = " ".join(texts).split()
    return " ".join(word for word in words if word not in UNKNOWN_TOKENS)
