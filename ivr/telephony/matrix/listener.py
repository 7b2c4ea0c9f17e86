"""The worker's one /sync connection to the homeserver: helpers' replies in, acted on like SMS replies.

It resumes from the sync token stored in the database (table matrix_state) and stores the next one
only after the batch was handled, so a restart neither misses a message nor loses one half-handled;
a message handled twice is impossible too, because the reply is stored under its event id
(ivr.tasks.outbox.record_inbound refuses an id it has seen). The very first start takes the server's
position without acting on old history. Network and server errors back off 1, 2, 4 ... 60 s.

Which messages count: those in a helper's direct room (the one the hotline created for that helper)
and those in the helpers' group room (HAUSRUF_MATRIX_HELPERS_ROOM), from anyone but the hotline.

It also records what it can reach (reach.py), for /healthz and the console: the homeserver after every
sync, and each configured room every few minutes or at once when the hotline left or was kicked from one.
A room that cannot be joined does not stop the sync: the helpers' direct rooms still work. Read
receipts (m.read) of helpers mark the hotline's messages they have seen as delivered.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.db.models import House, SmsMessage
from ivr.tasks.config import TaskConfig
from ivr.tasks.inbound import handle_sms
from ivr.tasks.sending import record_status
from ivr.telephony.matrix.channel import MatrixChannel
from ivr.telephony.matrix.client import ChatMessage, MatrixError, ReadReceipt
from ivr.telephony.matrix.house import HouseRooms
from ivr.telephony.matrix.reach import HOMESERVER, ROOM, ROOM_CHECK_EVERY, record_value
from ivr.telephony.matrix.state import SYNC_TOKEN, UNREADABLE, StateStore
from ivr.telephony.ports import DeliveryReport

log = logging.getLogger("hausruf.matrix")

MAX_BACKOFF = 60.0
HOMESERVER_RECORD_EVERY = 60.0  # seconds: an unchanged "the homeserver answers" is written this often


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


class MatrixListener:
    """Long-polls /sync and hands every helper's message to ivr.tasks.inbound.handle_sms."""

    def __init__(self, channel: MatrixChannel, sessions: Callable[[], Session], config: TaskConfig,
                 on_queued: Callable[[], None] | None = None, clock: Callable[[], datetime] = utcnow):
        self.channel = channel
        self.client = channel.client
        self.sessions = sessions
        self.state = StateStore(sessions)
        self.config = config
        self.on_queued = on_queued or (lambda: None)  # wake the outbox: an answer was queued
        self.clock = clock
        self._room_ids: dict[str, str] = {}  # a configured room (alias or id) -> its id, while joined
        self._rooms_checked_at: datetime | None = None
        self._room_errors: dict[str, str] = {}  # configured rooms that cannot be used -> why
        self._homeserver_recorded: tuple[bool, str, datetime] | None = None
        self.house_rooms = HouseRooms(self.client, sessions, clock)  # residents hear them by phone

    @property
    def helpers_room_id(self) -> str | None:
        """The group room's id (the setting may be an alias); None while it cannot be joined."""
        return self._room_ids.get(self.config.helpers_room) if self.config.helpers_room else None

    def run_once(self, timeout_ms: int = 30000) -> int:
        """One /sync from the stored token; the number of messages acted on. MatrixError on failure."""
        if self._rooms_checked_at is None or self.clock() - self._rooms_checked_at >= ROOM_CHECK_EVERY:
            self.check_rooms()
        helpers_room = self.helpers_room_id
        token = self.state.get(SYNC_TOKEN)
        if token is None:
            # First start: take the server's position; history from before the hotline listened is not acted on.
            batch = self.client.sync(None, timeout_ms=0)
            self.state.set(SYNC_TOKEN, batch.next_batch)
            self.record_homeserver(True, "")
            log.info("Matrix: first sync as %s; listening from now on", self.client.user_id)
            self.house_rooms.after_sync(batch.messages, self._room_ids)
            return 0
        batch = self.client.sync(token, timeout_ms=timeout_ms)
        self.record_homeserver(True, "")
        if set(batch.left) & set(self._room_ids.values()) or (batch.invites and self._room_errors):
            self.check_rooms()  # kicked, or invited where we could not enter: say so now, not in five minutes
        handled = 0
        for message in batch.messages:
            if message.sender == self.client.user_id:
                continue
            if message.room_id == helpers_room:
                handled += self.handle(message, answer_to=self.config.helpers_room)
            elif self.channel.direct_room(message.sender, create=False) == message.room_id:
                handled += self.handle(message, answer_to=None)
        for room_id, sender in batch.unreadable:
            if sender != self.client.user_id and (room_id == helpers_room
                                                  or self.channel.direct_room(sender, create=False) == room_id):
                self.say_unreadable(room_id)
        self.record_receipts(batch.receipts, helpers_room)
        self.house_rooms.after_sync(batch.messages, self._room_ids)
        self.state.set(SYNC_TOKEN, batch.next_batch)
        return handled

    def record_receipts(self, receipts: list[ReadReceipt], helpers_room: str | None) -> int:
        """Our messages a helper has read count as delivered, as Twilio's "read" does for an SMS; how many.

        A receipt marks one event and everything before it: our row with that event id and our earlier
        ones to the same address, or (a receipt on the helper's own reply) ours sent before it was read.
        In the helpers' room anyone's receipt counts: someone there has seen it.
        """
        delivered = 0
        for receipt in receipts:
            if receipt.user_id == self.client.user_id:
                continue
            if receipt.room_id == helpers_room:
                address = self.config.helpers_room
            elif self.channel.direct_room(receipt.user_id, create=False) == receipt.room_id:
                address = receipt.user_id
            else:
                continue
            with self.sessions() as session:
                unread = list(session.scalars(select(SmsMessage).where(
                    SmsMessage.direction == "outbound", SmsMessage.channel == "matrix",
                    SmsMessage.to_number == address, SmsMessage.status == "sent").order_by(SmsMessage.id)))
                marked = next((row for row in unread if row.provider_message_id == receipt.event_id), None)
                read_at = datetime.fromtimestamp(receipt.timestamp_ms / 1000, timezone.utc)
                read = ([row for row in unread if row.id <= marked.id] if marked is not None else
                        [row for row in unread if row.sent_at is not None and _utc(row.sent_at) <= read_at])
                for row in read:
                    record_status(session, DeliveryReport(row.provider_message_id, "delivered", outbox_id=row.id),
                                  self.clock(), self.config)
                session.commit()
            delivered += len(read)
        return delivered

    def configured_rooms(self) -> list[str]:
        """The helpers' room and every house's chat room, as configured (alias or id)."""
        with self.sessions() as session:
            houses = list(session.scalars(select(House.chat_room).where(House.chat_room != "").order_by(House.id)))
        return list(dict.fromkeys(([self.config.helpers_room] if self.config.helpers_room else []) + houses))

    def check_rooms(self) -> None:
        """Join each configured room and see that the hotline can read and write it; record what was found.

        An answer that refuses (not invited, kicked, banned, an alias that cannot be resolved) is the
        room's problem and recorded as such; no answer at all is the homeserver's (MatrixError goes up).
        """
        for room in self.configured_rooms():
            error = ""
            try:
                room_id = self.client.join(room)
                if self.client.is_encrypted(room_id) and not self.client.encrypted:
                    error = "it is end-to-end encrypted, but the hotline has no key store (HAUSRUF_DATA_DIR)"
                elif not self.client.may_post(room_id):
                    error = "the hotline's account may not post there (its power level is too low)"
            except MatrixError as exc:
                if exc.status is None or exc.status == 401:
                    raise  # no answer, or our sign-in refused: the homeserver's trouble, recorded by the sync loop
                room_id, error = None, str(exc)
            if room_id is not None:
                self._room_ids[room] = room_id
            else:
                self._room_ids.pop(room, None)
            if error and self._room_errors.get(room) != error:
                log.warning("Matrix: room %s cannot be used: %s (invite %s to it)", room, error, self.client.user_id)
            elif not error and room in self._room_errors:
                log.info("Matrix: room %s can be used again", room)
            if error:
                self._room_errors[room] = error
            else:
                self._room_errors.pop(room, None)
            self.state.set(f"{ROOM}{room}", record_value(not error, error, self.clock()))
        self._rooms_checked_at = self.clock()

    def record_homeserver(self, ok: bool, error: str) -> None:
        """Record whether the homeserver answered: when that changed, else at most once a minute."""
        now = self.clock()
        last = self._homeserver_recorded
        if last is not None and last[:2] == (ok, error) and (now - last[2]).total_seconds() < HOMESERVER_RECORD_EVERY:
            return
        self.state.set(HOMESERVER, record_value(ok, error, now))
        self._homeserver_recorded = (ok, error, now)

    def say_unreadable(self, room_id: str) -> None:
        """An encrypted message the hotline cannot read: say so in the log and keep it for `hausruf matrix check`."""
        log.warning("Matrix: room %s is end-to-end encrypted: a helper's message there cannot be read; switch "
                    "encryption off for the hotline's rooms (see README, Matrix)", room_id)
        self.state.set(f"{UNREADABLE}{room_id}", self.clock().isoformat())

    def handle(self, message: ChatMessage, answer_to: str | None) -> int:
        """Act on one reply as on an SMS; 1 when something was queued."""
        with self.sessions() as session:
            outcome = handle_sms(session, message.event_id, message.sender, message.room_id, message.body,
                                 self.clock(), self.config, answer_to=answer_to)
            session.commit()
        log.info("Matrix reply in %s: %s", "the helpers' room" if answer_to else "a direct room", outcome)
        if outcome in ("duplicate", "unknown sender"):
            return 0
        self.on_queued()
        return 1

    def run_forever(self, stop: threading.Event, timeout_ms: int = 30000) -> None:
        """Sync until stop is set; back off on errors, never give up (the log says what is wrong)."""
        delay = 1.0
        while not stop.is_set():
            try:
                self.run_once(timeout_ms)
                delay = 1.0
            except MatrixError as exc:
                log.warning("Matrix sync failed (%s); again in %.0f s", exc, delay)
                self._record_failure(exc)
                stop.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF)
            except Exception:  # noqa: BLE001 - a bug in handling one batch must not end the connection
                log.exception("Matrix: handling a sync batch failed; again in %.0f s", delay)
                stop.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF)

    def _record_failure(self, exc: MatrixError) -> None:
        try:
            self.record_homeserver(False, str(exc))
        except Exception:  # noqa: BLE001 - the database may be the trouble; the log line above says enough
            log.exception("Matrix: could not record the homeserver's failure")
