"""Turn one typed line into the engine event it stands for, given what the call waits on."""

from __future__ import annotations

import re

from ivr.engine.actions import Action, Dial, Record
from ivr.engine.events import (
    DIAL_OUTCOMES,
    CallerHungUp,
    DialFinished,
    DigitsPressed,
    Event,
    NoInput,
    RecordingFinished,
    WordsSpoken,
)

KEYS = re.compile(r"^[0-9*#]+$")
HANGUP_WORDS = ("hangup", "/hangup")


class InputError(ValueError):
    """A line that means nothing at this point of the call."""


def event_for_line(line: str, waiting: Action | None) -> Event:
    """Keys, a spoken word, an empty line for silence; at a dial: a dial outcome; at a recording: the message."""
    text = line.strip()
    if text.lower() in HANGUP_WORDS:
        return CallerHungUp()
    if isinstance(waiting, Dial):
        outcome = text.lower() or "completed"
        if outcome not in DIAL_OUTCOMES:
            raise InputError(f"at a dial, type one of: {', '.join(DIAL_OUTCOMES)} (or an empty line for completed)")
        return DialFinished(outcome=outcome, seconds=60 if outcome in ("completed", "answered") else 0)
    if isinstance(waiting, Record):
        if not text:
            return RecordingFinished(reference=None, seconds=0)
        # The typed line stands for the spoken message; ~2.5 words a second of speech.
        return RecordingFinished(reference=f"simulated:{text}", seconds=max(1, round(len(text.split()) / 2.5)))
    if not text:
        return NoInput()
    if KEYS.match(text):
        return DigitsPressed(text)
    return WordsSpoken(text)
