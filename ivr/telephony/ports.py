"""The ports: what the hotline offers a telephony adapter, what an adapter must do, what a messaging channel must do.

An adapter (ivr/telephony/twilio/, a SIP adapter, a chat channel) implements these Protocols and is
the only place that imports its provider's library. The call handler, the tasks and the worker see
only these types. docs/adapters.md is the recipe for adding one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from ivr.engine.actions import Action
from ivr.engine.events import Event


@dataclass(frozen=True)
class StepResult:
    """What an adapter renders after a step: the actions, the step they belong to, and the flow language."""

    actions: list[Action]
    step: int
    language: str
    node: str | None
    stale: bool = False  # the event came for an older step; the actions repeat what the call waits on
    revision: str = ""
    after_menu: bool = False  # the call waited in a menu before this step (a speech listener may be running)


class CallService(Protocol):
    """The hotline's side, called by a telephony adapter: one engine step per provider event.

    Every method answers within the database deadline (HAUSRUF_DB_TIMEOUT) or raises; an adapter
    answers any exception with the staff fallback (apology, then a person) and never with silence.
    """

    provider: str

    def start(self, call_id: str, caller: str | None, called: str | None = None) -> StepResult:
        """A new call (or the provider's retry of it): run the flow the called number picks to its first wait."""

    def deliver(self, call_id: str, event: Event, expected_step: int | None, kind: str, detail: str) -> StepResult:
        """An event of a call in progress; expected_step makes a late or doubled event only repeat the current wait."""

    def end(self, call_id: str, status: str, duration: int | None) -> str | None:
        """The call ended (status: one of ivr.db.models.CALL_STATUSES); its outcome, None for a call never seen."""

    def waits_in_menu(self, call_id: str, step: int) -> bool:
        """Whether the call still waits in the menu of step (a spoken word heard late is dropped)."""


class TelephonyAdapter(Protocol):
    """What a telephony adapter does for the hotline besides driving a CallService."""

    provider: str  # stored with each call; names this adapter in ivr.db.models.Call.provider

    def render(self, call_id: str, result: StepResult) -> object:
        """The provider's instructions for a step's actions (TwiML, SIP media actions ...)."""

    def move_on(self, call_id: str, step: int, phrase: str) -> None:
        """Move a live call waiting in the menu of step on with a spoken word (recognised by ivr/speech)."""

    def fetch_recording(self, reference: str, target: Path, location: str | None = None) -> Path:
        """Copy a recorded message (reference as the adapter gave it in RecordingFinished) to target.

        location: where the provider said the recording is, if it said so (Twilio's RecordingUrl).
        """

    def delete_recording(self, reference: str) -> bool:
        """Delete the provider's copy of a recording; False when there is none (already deleted)."""


class ChannelError(Exception):
    """Sending failed. permanent: retrying cannot help. maybe_done: it may have gone out although we saw no answer."""

    def __init__(self, message: str, code: int | None = None, permanent: bool = False, maybe_done: bool = False):
        super().__init__(message)
        self.code = code
        self.permanent = permanent
        self.maybe_done = maybe_done


@dataclass(frozen=True)
class SentMessage:
    """A message as the channel lists it, for the look-up after a crash."""

    message_id: str
    to: str
    body: str
    created_at: datetime | None


@dataclass(frozen=True)
class DeliveryReport:
    """The channel says how a message fared; status is one of ivr.db.models.SMS_STATUSES."""

    message_id: str
    status: str
    error_code: int | None = None
    outbox_id: int | None = None  # our row, when the channel echoes it back


@dataclass(frozen=True)
class InboundMessage:
    """A reply (or any message) received on a channel."""

    message_id: str
    sender: str
    recipient: str
    body: str


class MessagingChannel(Protocol):
    """What a messaging channel (SMS, a chat) must do for the outbox (ivr/tasks/sending.py)."""

    name: str  # stored with each message (ivr.db.models.SmsMessage.channel)
    # True when send() passes key on so that the channel itself refuses a second message with it;
    # then a crash between sending and recording needs no look-up.
    idempotent: bool
    sender: str  # our own address on the channel (the SMS sender number)

    def send(self, to: str, body: str, key: str, outbox_id: int | None = None) -> str:
        """Hand one message to the channel; its id there. ChannelError on failure."""

    def recent(self, to: str, since: datetime | None = None) -> list[SentMessage]:
        """Every message we sent to `to` since `since`, newest first (look-up after a crash, when not idempotent).

        All of them, not one page: after a burst to one number the lost message may be older than the newest 50.
        ChannelError on failure.
        """


class HouseRoomPoster(Protocol):
    """Posts a tenant's confirmed spoken message to her house's chat room (the Matrix channel does)."""

    sender: str  # the hotline's own account, the room's sender of the post

    def post_house_message(self, room: str, salutation: str, transcript: str, audio: bytes | None,
                           key: str) -> tuple[str, list[str]]:
        """(room id, event ids: text first, then the audio); the same key posts nothing new. ChannelError on failure."""
