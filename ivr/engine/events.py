"""What can happen on a call, as the engine sees it: small frozen dataclasses, no provider types."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallStarted:
    """The call was answered by the hotline."""


@dataclass(frozen=True)
class DigitsPressed:
    """The caller pressed one or more keys (0-9, * or #)."""

    digits: str


@dataclass(frozen=True)
class WordsSpoken:
    """The recogniser heard a phrase of the current menu's grammar."""

    text: str


@dataclass(frozen=True)
class NoInput:
    """The caller said and pressed nothing before the menu's timeout."""


@dataclass(frozen=True)
class DialFinished:
    """A connect attempt ended; outcome is one of DIAL_OUTCOMES."""

    outcome: str
    seconds: int = 0


DIAL_OUTCOMES = ("completed", "answered", "busy", "no-answer", "failed", "canceled")


@dataclass(frozen=True)
class RecordingFinished:
    """A spoken message was recorded; reference says where the adapter keeps it."""

    reference: str | None
    seconds: int = 0


@dataclass(frozen=True)
class MessageTranscribed:
    """The call asks how far the transcript of its recording is (a poll while it waits).

    text: None while the worker is still at it; "" when nothing could be made of the recording.
    """

    recording: str | None
    text: str | None


@dataclass(frozen=True)
class Resume:
    """The provider asks again what the call waits on (a late or doubled webhook): repeat, count nothing."""


@dataclass(frozen=True)
class CallerHungUp:
    """The caller hung up; the engine only closes the state."""


Event = (CallStarted | DigitsPressed | WordsSpoken | NoInput | DialFinished | RecordingFinished | Resume
         | CallerHungUp | MessageTranscribed)
