"""What the hotline does in answer to an event: small frozen dataclasses the adapters render."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Say:
    """Speak a prompt; segments are spoken with a short pause between them."""

    segments: tuple[str, ...]
    language: str


@dataclass(frozen=True)
class Ask:
    """Speak the prompt while listening for one key or one spoken phrase of this menu."""

    node: str
    segments: tuple[str, ...]
    language: str
    timeout_seconds: int
    keys: tuple[str, ...]
    phrases: tuple[str, ...]
    finish_on_key: str | None = None  # a number entry: keys until this one (`#`), not a single key


@dataclass(frozen=True)
class Dial:
    """Connect the caller to a number; the callee hears the whisper first."""

    node: str
    target: str
    numbers: tuple[str, ...]
    whisper: str
    language: str
    timeout_seconds: int


@dataclass(frozen=True)
class Record:
    """Record a spoken message after the prompt that precedes it."""

    node: str
    max_seconds: int
    language: str


@dataclass(frozen=True)
class Poll:
    """Wait this long (the prompt before it plays first), then ask again how far the transcript is."""

    node: str
    seconds: int


@dataclass(frozen=True)
class DraftHouseMessage:
    """A recording for the house chat: keep it as a draft for the worker to transcribe (nothing is posted)."""

    node: str
    recording: str
    language: str


@dataclass(frozen=True)
class SendHouseMessage:
    """The caller confirmed the draft of this recording: the worker posts it to her house room."""

    node: str
    recording: str


@dataclass(frozen=True)
class DiscardHouseMessage:
    """The caller did not confirm the draft of this recording: it and its transcript are deleted."""

    node: str
    recording: str


HOUSE_MESSAGE_EFFECTS = (DraftHouseMessage, SendHouseMessage, DiscardHouseMessage)


@dataclass(frozen=True)
class BookCallback:
    """Create a callback task for the house volunteers or for staff."""

    node: str
    audience: str
    topic: str
    recording: str | None = None


@dataclass(frozen=True)
class Hangup:
    """End the call."""

    outcome: str = "completed"


@dataclass(frozen=True)
class Outcome:
    """Record in the call's audit trail what the call achieved (connected, callback, emergency...)."""

    kind: str
    detail: str = ""
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)


Action = (Say | Ask | Dial | Record | Poll | BookCallback | DraftHouseMessage | SendHouseMessage | DiscardHouseMessage
          | Hangup | Outcome)  # and ivr.housing.actions
