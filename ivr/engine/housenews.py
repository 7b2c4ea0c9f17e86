"""The house chat read aloud: stored messages of the caller's house room as short spoken sentences.

Pure: the messages, the moment and the flow's window come in, sentences such as "Gestern schrieb
Petra: Wer hat Mehl?" go out. Links, pictures and files are described, never read out; answers to a
message the hotline posted for this caller come first, marked as answers to her.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

LINK = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
BY_PHONE = " (am Telefon): "  # how the hotline marks a tenant's message in the room (ivr.telephony.matrix.house)


@dataclass(frozen=True)
class NewsItem:
    """One message of the house room as the call sees it (built from the database by the directory)."""

    sender_name: str  # the sender's display name, e.g. "Petra"
    body: str
    msgtype: str  # m.text, m.image, m.file, m.audio ... (Client-Server API, "m.room.message msgtypes")
    sent_at: datetime  # aware
    from_hotline: bool = False  # posted by the hotline for a tenant ("Frau Becker (am Telefon): ...")
    answer_to_caller: bool = False  # a reply to a message the hotline posted for this caller


@dataclass(frozen=True)
class Wording:
    """The words of one language; German first, English for the English flow."""

    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    today: str
    yesterday: str
    weekday: str  # "Am {day}"
    date: str  # "Am {day}. {month}"
    wrote: str  # "{when} schrieb {who}: {text}"
    sent: str  # "{when} schickte {who}: {text}"
    by_phone: str  # "{who} am Telefon"
    answer: str
    link: str
    media: dict[str, str]


WORDING = {
    "de": Wording(
        weekdays=("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
        months=("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
                "November", "Dezember"),
        today="Heute", yesterday="Gestern", weekday="Am {day}", date="Am {day}. {month}",
        wrote="{when} schrieb {who}: {text}", sent="{when} schickte {who}: {text}", by_phone="{who} am Telefon",
        answer="Eine Antwort an Sie.", link="einen Link",
        media={"m.image": "ein Bild", "m.file": "eine Datei", "m.audio": "eine Sprachnachricht",
               "m.video": "ein Video", "m.location": "einen Ort"},
    ),
    "en": Wording(
        weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        months=("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December"),
        today="Today", yesterday="Yesterday", weekday="On {day}", date="On {day} {month}",
        wrote="{when} {who} wrote: {text}", sent="{when} {who} sent: {text}", by_phone="{who} by phone",
        answer="An answer to you.", link="a link",
        media={"m.image": "a picture", "m.file": "a file", "m.audio": "a voice message",
               "m.video": "a video", "m.location": "a place"},
    ),
}
MEDIA = tuple(WORDING["de"].media)


def wording(language: str) -> Wording:
    """The words for a flow's language; German where there are none."""
    return WORDING.get(language, WORDING["de"])


def spoken_day(when: datetime, now: datetime, language: str = "de") -> str:
    """'Heute', 'Gestern', 'Am Montag' (this week) or 'Am 3. März'; now carries the cooperative's time zone."""
    words = wording(language)
    local, today = when.astimezone(now.tzinfo).date(), now.date()
    days = (today - local).days
    if days <= 0:
        return words.today
    if days == 1:
        return words.yesterday
    if days < 7:
        return words.weekday.format(day=words.weekdays[local.weekday()])
    return words.date.format(day=local.day, month=words.months[local.month - 1])


def spoken_text(body: str, msgtype: str, language: str = "de") -> str:
    """A message's text as it may be read aloud: media described, links replaced, reply quotes dropped."""
    words = wording(language)
    if msgtype in words.media:
        return f"{words.media[msgtype]}."
    # Replies carry the quoted message as "> " lines before the answer (fallback body of m.in_reply_to).
    lines = [line for line in body.splitlines() if not line.startswith(">")]
    text = LINK.sub(words.link, " ".join(" ".join(lines).split()))
    return text if text.endswith((".", "!", "?")) else f"{text}."


def news_sentences(items: tuple[NewsItem, ...] | list[NewsItem], now: datetime, messages: int = 5, days: int = 7,
                   language: str = "de") -> list[str]:
    """What the caller hears, in order: answers to her first (marked), then the newest `messages` others.

    items: the room's messages, oldest first, as stored; only those of the last `days` days count.
    """
    since = now - timedelta(days=days)
    recent = [item for item in items if item.sent_at >= since]
    answers = [item for item in recent if item.answer_to_caller]
    others = [item for item in recent if not item.answer_to_caller][-messages:] if messages else []
    said = [f"{wording(language).answer} {sentence(item, now, language)}" for item in answers]
    return said + [sentence(item, now, language) for item in others]


def sentence(item: NewsItem, now: datetime, language: str = "de") -> str:
    """One message as a sentence: day, sender and text."""
    words = wording(language)
    when = spoken_day(item.sent_at, now, language)
    if item.from_hotline and BY_PHONE in item.body:
        who, _, text = item.body.partition(BY_PHONE)
        return words.wrote.format(when=when, who=words.by_phone.format(who=who), text=spoken_text(text, "m.text", language))
    template = words.sent if item.msgtype in words.media else words.wrote
    return template.format(when=when, who=item.sender_name, text=spoken_text(item.body, item.msgtype, language))
