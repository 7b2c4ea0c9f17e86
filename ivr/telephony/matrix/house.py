"""The house chat by phone: what the house room says, as sentences to read aloud, and a tenant's message posted.

"Neues aus dem Haus": the last few messages of the house room (within some days) become sentences
such as "Gestern schrieb Petra: Wer hat Mehl?"; links, images and files are described, never read
out. Answers to a message the hotline posted for this tenant come first, marked as answers to her.
"Nachricht an die Nachbarn": a confirmed spoken message is posted as the hotline's account, marked
as coming from the tenant by phone ("Frau Becker (am Telefon): ..."), with the recording attached
as audio in a reply to it, so neighbours can listen when the transcript is poor.

news_sentences() is pure (messages, names and the clock in, text out); read_house_news() and
post_for_tenant() do the talking to the homeserver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from ivr.telephony.matrix.client import ChatMessage, MatrixClient

WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
          "November", "Dezember")
LINK = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
# What is said instead of a message that is no text (Client-Server API, "m.room.message msgtypes").
MEDIA = {"m.image": "ein Bild", "m.file": "eine Datei", "m.audio": "eine Sprachnachricht",
         "m.video": "ein Video", "m.location": "einen Ort"}
BY_PHONE = " (am Telefon): "  # how the hotline marks a tenant's message in the room


@dataclass(frozen=True)
class NewsSettings:
    """How much of the house room a caller hears (a flow setting)."""

    messages: int = 5
    days: int = 7


def spoken_day(when: datetime, now: datetime, zone: str) -> str:
    """'Heute', 'Gestern', 'Am Montag' (this week) or 'Am 3. März', in the cooperative's time zone."""
    local, today = when.astimezone(ZoneInfo(zone)).date(), now.astimezone(ZoneInfo(zone)).date()
    days = (today - local).days
    if days <= 0:
        return "Heute"
    if days == 1:
        return "Gestern"
    if days < 7:
        return f"Am {WEEKDAYS[local.weekday()]}"
    return f"Am {local.day}. {MONTHS[local.month - 1]}"


def spoken_text(message: ChatMessage) -> str:
    """A message's text as it may be read aloud: media described, links replaced, reply quotes dropped."""
    if message.msgtype in MEDIA:
        return f"{MEDIA[message.msgtype]}."
    # Replies carry the quoted message as "> " lines before the answer (fallback body of m.in_reply_to).
    lines = [line for line in message.body.splitlines() if not line.startswith(">")]
    text = " ".join(" ".join(lines).split())
    text = LINK.sub("einen Link", text)
    return text if text.endswith((".", "!", "?")) else f"{text}."


def news_sentences(messages: list[ChatMessage], names: dict[str, str], now: datetime, zone: str,
                   hotline: str, tenant_posts: set[str] = frozenset(), settings: NewsSettings = NewsSettings()
                   ) -> list[str]:
    """What the caller hears, in order: answers to her own messages first (marked), then the newest others.

    messages: the room's messages, oldest first; names: display names by user id; tenant_posts: the
    event ids of what the hotline posted for this tenant.
    """
    since = now - timedelta(days=settings.days)
    # The hotline's own recordings are attachments of the text posted before them: said once, as text.
    recent = [m for m in messages if _at(m) >= since and m.event_id not in tenant_posts
              and not (m.sender == hotline and m.msgtype in MEDIA)]
    answers = [m for m in recent if m.reply_to in tenant_posts and m.sender != hotline]
    others = [m for m in recent if m not in answers][-settings.messages:]
    sentences = [f"Eine Antwort an Sie. {_sentence(m, names, now, zone, hotline)}" for m in answers]
    return sentences + [_sentence(m, names, now, zone, hotline) for m in others]


def _at(message: ChatMessage) -> datetime:
    return datetime.fromtimestamp(message.timestamp_ms / 1000, timezone.utc)


def _sentence(message: ChatMessage, names: dict[str, str], now: datetime, zone: str, hotline: str) -> str:
    day = spoken_day(_at(message), now, zone)
    if message.sender == hotline and BY_PHONE in message.body:
        who, _, text = message.body.partition(BY_PHONE)
        return f"{day} schrieb {who} am Telefon: {spoken_text(_with_body(message, text))}"
    who = names.get(message.sender) or message.sender[1:].split(":")[0]
    verb = "schickte" if message.msgtype in MEDIA else "schrieb"
    return f"{day} {verb} {who}: {spoken_text(message)}"


def _with_body(message: ChatMessage, body: str) -> ChatMessage:
    return ChatMessage(message.room_id, message.event_id, message.sender, body, message.msgtype,
                       message.timestamp_ms, message.reply_to)


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
