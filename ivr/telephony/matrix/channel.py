"""The Matrix messaging channel (ivr.telephony.ports.MessagingChannel), and the router beside SMS.

An address is a Matrix user ID (@jonas:server: the direct room with that helper, created once,
recorded in the hotline's m.direct account data and reused), a room id (!id:server) or an alias (#name:server). The outbox row's idempotency key becomes
the Matrix transaction id, so sending a row again after a crash gives back the first event instead of
a second message (the homeserver keeps the id per device for a while: Synapse about 30 minutes,
longer than the outbox lease).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from datetime import datetime, timezone

from ivr.telephony.matrix.client import MatrixClient, MatrixError
from ivr.telephony.ports import ChannelError, MessagingChannel, SentMessage

log = logging.getLogger("hausruf.matrix")

NAME = "matrix"


def is_matrix_address(address: str | None) -> bool:
    """A Matrix user, room id or alias (the outbox's other addresses are phone numbers)."""
    return bool(address) and address[0] in "@!#"


def transaction_id(key: str) -> str:
    """The outbox key as a transaction id: readable where it is safe, with a hash so that no two keys collide."""
    readable = re.sub(r"[^A-Za-z0-9._~-]", "_", key)[:60]
    return f"hausruf.{readable}.{hashlib.sha256(key.encode()).hexdigest()[:16]}"


class MatrixChannel:
    """Sends the outbox's Matrix rows as the hotline's account."""

    name = NAME
    idempotent = True

    def __init__(self, client: MatrixClient):
        self.client = client
        self.sender = client.user_id
        self._direct: dict[str, str] = {}  # user id -> direct room id
        self._joined: dict[str, str] = {}  # room alias or id -> room id
        self._lock = threading.Lock()

    def send(self, to: str, body: str, key: str, outbox_id: int | None = None) -> str:
        """One text message to a helper's direct room or a room; its event id. ChannelError on failure."""
        try:
            room_id = self.room_for(to)
            return self.client.send(room_id, {"msgtype": "m.text", "body": body}, transaction_id(key))
        except MatrixError as exc:
            raise ChannelError(str(exc), code=exc.status, permanent=exc.permanent,
                               maybe_done=not exc.permanent) from exc

    def post_house_message(self, room: str, salutation: str, transcript: str, audio: bytes | None,
                           key: str) -> tuple[str, list[str]]:
        """A tenant's confirmed message (and its recording) in her house room (ivr.telephony.ports.HouseRoomPoster)."""
        from ivr.telephony.matrix.house import post_for_tenant

        try:
            room_id = self.room_for(room)
            return room_id, post_for_tenant(self.client, room_id, salutation, transcript, audio, key)
        except MatrixError as exc:
            raise ChannelError(str(exc), code=exc.status, permanent=exc.permanent,
                               maybe_done=not exc.permanent) from exc

    def recent(self, to: str, since: datetime | None = None) -> list[SentMessage]:
        """Our messages in the room of `to` since `since`, newest first (the outbox's look-up after a crash)."""
        try:
            room_id = self.room_for(to, create=False)
            if room_id is None:
                return []
            since_ms = int(since.timestamp() * 1000) if since else 0
            messages = self.client.messages(room_id, since_ms=since_ms)
        except MatrixError as exc:
            raise ChannelError(str(exc), code=exc.status, permanent=exc.permanent) from exc
        return [SentMessage(m.event_id, to, m.body, datetime.fromtimestamp(m.timestamp_ms / 1000, timezone.utc))
                for m in reversed(messages) if m.sender == self.sender]

    def room_for(self, address: str, create: bool = True) -> str | None:
        """The room a message to address goes to."""
        if address.startswith("@"):
            return self.direct_room(address, create)
        if address not in self._joined:
            # Joining a room we are in already changes nothing; one we are invited to is entered now.
            self._joined[address] = self.client.join(address)
        return self._joined[address]

    def direct_room(self, user_id: str, create: bool = True) -> str | None:
        """The direct room with a helper: from our m.direct account data, else one we made for them
        before a crash (client.find_direct_room), else a new one; recorded there.

        Kept on the homeserver (where Element keeps it too), not in our database: send() runs while
        the outbox holds a database transaction, and a second one would wait for it on SQLite.
        """
        with self._lock:
            if user_id in self._direct:
                return self._direct[user_id]
            rooms = self.client.direct_rooms()
            if rooms.get(user_id):
                self._direct[user_id] = rooms[user_id][-1]
                return self._direct[user_id]
            if not create:
                return None
            # Created, but a crash came before m.direct recorded it: that room, not a second one.
            room_id = self.client.find_direct_room(user_id)
            if room_id is None:
                room_id = self.client.create_direct_room(user_id, name="Hausruf")
                log.info("created the direct room %s with a helper", room_id)
            else:
                log.info("found the direct room %s with a helper, not yet in m.direct; recording it", room_id)
            rooms.setdefault(user_id, []).append(room_id)
            self.client.set_direct_rooms(rooms)
            self._direct[user_id] = room_id
            return room_id


class ChannelRouter:
    """A MessagingChannel that sends to Matrix addresses through Matrix and everything else by SMS.

    Not idempotent as a whole: the outbox looks a row up with recent() after a crash, which the
    Matrix channel answers from the room's history (and its transaction ids guard the resend too).
    """

    idempotent = False

    def __init__(self, sms: MessagingChannel | None, matrix: MatrixChannel | None):
        self.sms = sms
        self.matrix = matrix
        self.name = sms.name if sms is not None else NAME
        self.sender = sms.sender if sms is not None else (matrix.sender if matrix else "")
        # The outbox rows' channels this router can send (ivr.tasks.sending.send_due holds the others).
        self.channels = tuple(kind for kind, channel in (("sms", sms), (NAME, matrix)) if channel is not None)

    def _for(self, to: str) -> MessagingChannel:
        channel = self.matrix if is_matrix_address(to) else self.sms
        if channel is None:
            kind = "Matrix" if is_matrix_address(to) else "SMS"
            raise ChannelError(f"no {kind} channel is configured for this address", permanent=True)
        return channel

    def send(self, to: str, body: str, key: str, outbox_id: int | None = None) -> str:
        return self._for(to).send(to, body, key, outbox_id)

    def recent(self, to: str, since: datetime | None = None) -> list[SentMessage]:
        return self._for(to).recent(to, since)
