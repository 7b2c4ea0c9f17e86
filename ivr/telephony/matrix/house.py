"""The house chat by phone: what the house room says, as sentences to read aloud, and a tenant's message posted.

"Neues aus dem Haus": the last few messages of the house room (within some days) become sentences
such as "Gestern schrieb Petra: Wer hat Mehl?"; links, images and files are described, never read
out. Answers to a message the hotline posted for this tenant come first, marked as answers to her.
"Nachricht an die Nachbarn": a confirmed spoken message is posted as the hotline's account, marked
as coming from the tenant by phone ("Frau Becker (am Telefon): ..."), with the recording attached
as audio in a reply to it, so neighbours can listen when the transcript is poor.

news_sentences() is pure (messages, names and the clock in, text out; the engine's
ivr.engine.housenews does the wording); read_house_news() and post_for_tenant() talk to the homeserver.
A call never does: the worker's listener keeps the house rooms in the database (HouseRooms), and a
step reads them there (ivr.directory.housechat).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ivr.directory.housechat import forget_deleted, house_rooms, store_messages
from ivr.engine.housenews import BY_PHONE, MEDIA, NewsItem
from ivr.flows.model import MAX_NEWS_DAYS
from ivr.engine.housenews import news_sentences as spoken_news
from ivr.engine.housenews import spoken_day as _spoken_day
from ivr.telephony.matrix.client import ChatMessage, MatrixClient, MatrixError

log = logging.getLogger("hausruf.matrix")


@dataclass(frozen=True)
class NewsSettings:
    """How much of the house room a caller hears (a flow setting)."""

    messages: int = 5
    days: int = 7


def spoken_day(when: datetime, now: datetime, zone: str) -> str:
    """'Heute', 'Gestern', 'Am Montag' (this week) or 'Am 3. März', in the cooperative's time zone."""
    return _spoken_day(when, now.astimezone(ZoneInfo(zone)))


def display_name(sender: str, names: dict[str, str]) -> str:
    """The sender's display name in the room, else the local part of the Matrix ID ("@tom:x" -> "tom")."""
    return names.get(sender) or sender[1:].split(":")[0]


def news_items(messages: list[ChatMessage], names: dict[str, str], hotline: str,
               tenant_posts: set[str] = frozenset()) -> list[NewsItem]:
    """The room's messages as the call reads them: her own posts and the hotline's recordings left out.

    The hotline's recordings are attachments of the text posted before them: said once, as text.
    """
    return [NewsItem(display_name(m.sender, names), m.body, m.msgtype, _at(m), from_hotline=m.sender == hotline,
                     answer_to_caller=m.reply_to in tenant_posts and m.sender != hotline)
            for m in messages
            if m.event_id not in tenant_posts and not (m.sender == hotline and m.msgtype in MEDIA)]


def news_sentences(messages: list[ChatMessage], names: dict[str, str], now: datetime, zone: str,
                   hotline: str, tenant_posts: set[str] = frozenset(), settings: NewsSettings = NewsSettings()
                   ) -> list[str]:
    """What the caller hears, in order: answers to her own messages first (marked), then the newest others.

    messages: the room's messages, oldest first; names: display names by user id; tenant_posts: the
    event ids of what the hotline posted for this tenant.
    """
    return spoken_news(news_items(messages, names, hotline, tenant_posts), now.astimezone(ZoneInfo(zone)),
                       settings.messages, settings.days)


def _at(message: ChatMessage) -> datetime:
    return datetime.fromtimestamp(message.timestamp_ms / 1000, timezone.utc)


class HouseRooms:
    """The worker keeps each house room's recent messages in the database (ivr.directory.housechat).

    The listener joins the configured rooms (and records those it cannot use, for /healthz and the
    console); after every /sync it hands over the batch and the rooms it has joined. A house room with
    new messages is read again (its newest messages and members' display names). At the first batch
    after a start (catching up after a pause) and then every REREAD_ALL every house room is read whole,
    as far back as a flow may ask: an edit or a deleted message arrives without a new message, and a
    deleted message must not be read out any more. A room that cannot be read is logged and skipped:
    helpers' replies go on.
    """

    READ = 100  # messages read per room on news: the most a flow may ask for, plus answers to callers
    REREAD_ALL = timedelta(minutes=10)  # every house room is read whole this often, for edits and deletions

    def __init__(self, client: MatrixClient, sessions: Callable[[], Session], clock: Callable[[], datetime]):
        self.client = client
        self.sessions = sessions
        self.clock = clock
        self._read_all_at: datetime | None = None

    def rooms(self, joined: dict[str, str]) -> dict[str, str]:
        """Room id -> house id for every house room the listener has joined (joined: room as configured -> id)."""
        with self.sessions() as session:
            configured = house_rooms(session)
        return {joined[room]: house_id for room, house_id in configured.items() if room in joined}

    def after_sync(self, messages: list[ChatMessage], joined: dict[str, str]) -> int:
        """Read the house rooms that had news (all of them now and then); the number of messages added."""
        rooms, now = self.rooms(joined), self.clock()
        whole = self._read_all_at is None or now - self._read_all_at >= self.REREAD_ALL
        if whole:
            touched, self._read_all_at = set(rooms), now
        else:
            touched = {m.room_id for m in messages if m.room_id in rooms}
        added = 0
        for room_id in sorted(touched):
            try:
                added += self.refresh(room_id, rooms[room_id], whole)
            except MatrixError as exc:
                log.warning("Matrix: house room %s cannot be read (%s); callers hear what was kept", room_id, exc)
        return added

    def refresh(self, room_id: str, house_id: str, whole: bool = False) -> int:
        """Read one house room (whole: all the kept days, forgetting what was deleted there); the number added."""
        now = self.clock()
        since = now - timedelta(days=MAX_NEWS_DAYS)
        messages = (self.client.messages(room_id, since_ms=int(since.timestamp() * 1000)) if whole
                    else self.client.messages(room_id, limit=self.READ))
        names = self.client.room_members(room_id)
        with self.sessions() as session:
            added = store_messages(session, house_id, messages, names, self.client.user_id, now)
            if whole:
                forget_deleted(session, room_id, {m.event_id for m in messages}, since)
            session.commit()
        return added


def read_house_news(client: MatrixClient, room: str, now: datetime, zone: str, tenant_posts: set[str] = frozenset(),
                    settings: NewsSettings = NewsSettings()) -> list[str]:
    """The house room's news for a caller (see news_sentences)."""
    room_id = client.join(room)
    messages = client.messages(room_id, limit=max(50, settings.messages * 4))
    return news_sentences(messages, client.room_members(room_id), now, zone, client.user_id, tenant_posts, settings)


def post_for_tenant(client: MatrixClient, room: str, salutation: str, transcript: str, audio: bytes | None,
                    key: str, filename: str = "nachricht.wav") -> list[str]:
    """Post a tenant's confirmed message (and its recording) to the house room; the event ids, text first.

    key makes it idempotent: the same key posts nothing new (transaction ids), so a retry after a crash
    never doubles the message in the room.
    """
    from ivr.telephony.matrix.channel import transaction_id

    room_id = client.join(room)
    text_id = client.send(room_id, {"msgtype": "m.text", "body": f"{salutation}{BY_PHONE}{transcript}"},
                          transaction_id(f"{key}:text"))
    if audio is None:
        return [text_id]
    uri = client.upload(audio, "audio/wav", filename)
    audio_id = client.send(room_id, {
        "msgtype": "m.audio", "body": f"Sprachnachricht von {salutation}", "filename": filename, "url": uri,
        "info": {"mimetype": "audio/wav", "size": len(audio)},
        "m.relates_to": {"m.in_reply_to": {"event_id": text_id}},
    }, transaction_id(f"{key}:audio"))
    return [text_id, audio_id]
