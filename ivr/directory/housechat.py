"""The house rooms' recent messages in the database: stored by the worker's Matrix sync, read by a call.

A webhook must answer within its deadline even when the homeserver is slow or down, so the call path
never talks to Matrix: the worker keeps each house room's last messages here (ivr.telephony.matrix.house,
HouseRooms) and a step reads them with the caller's context (build_context). Kept is what the largest
house_news window may ask for (MAX_NEWS_DAYS); older rows are trimmed on every store. A message the
hotline posted for a tenant names her (tenant_id): it goes with her export and erasure.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ivr.db.models import House, HouseChatMessage, TenantPhone
from ivr.engine.context import Caller
from ivr.engine.housenews import MEDIA, NewsItem
from ivr.flows.model import MAX_NEWS_DAYS

# Per house at most this many rows: a busy room's month, far more than a caller hears (10 plus answers).
KEEP_PER_HOUSE = 200


class RoomMessage(Protocol):
    """A message as the Matrix client hands it over (ivr.telephony.matrix.client.ChatMessage)."""

    room_id: str
    event_id: str
    sender: str
    body: str
    msgtype: str
    timestamp_ms: int
    reply_to: str | None


def house_rooms(session: Session) -> dict[str, str]:
    """The houses that have a chat room: room (alias or id, as in the directory) -> house id."""
    return {room: house for house, room in session.execute(
        select(House.id, House.chat_room).where(House.chat_room != "").order_by(House.id))}


def store_messages(session: Session, house_id: str, messages: Iterable[RoomMessage], names: dict[str, str],
                   hotline: str, now: datetime) -> int:
    """Keep a house room's messages (new ones added, known ones updated); the number added. The caller commits.

    The hotline's own recordings are attachments of the text it posted before them: not kept, so a
    caller hears that message once, as text.
    """
    since = now - timedelta(days=MAX_NEWS_DAYS)
    wanted = {m.event_id: m for m in messages
              if _at(m) >= since and not (m.sender == hotline and m.msgtype in MEDIA)}
    known = {row.event_id: row for row in session.scalars(
        select(HouseChatMessage).where(HouseChatMessage.event_id.in_(list(wanted))))} if wanted else {}
    added = 0
    for event_id, message in wanted.items():
        name = names.get(message.sender) or message.sender[1:].split(":")[0]
        row = known.get(event_id)
        if row is None:
            row = HouseChatMessage(house_id=house_id, room_id=message.room_id, event_id=event_id,
                                   sender=message.sender, sent_at=_at(message), reply_to=message.reply_to,
                                   from_hotline=message.sender == hotline)
            session.add(row)
            added += 1
        row.sender_name, row.body, row.msgtype = name, message.body, message.msgtype
    session.flush()
    trim(session, house_id, now)
    return added


def forget_deleted(session: Session, room_id: str, present: set[str], since: datetime) -> None:
    """A room read whole since `since`: its kept messages it no longer has were deleted (redacted) there.

    A post the hotline recorded for a tenant stays until the room shows it (it may not have arrived yet).
    """
    session.execute(delete(HouseChatMessage).where(
        HouseChatMessage.room_id == room_id, HouseChatMessage.sent_at >= since,
        HouseChatMessage.event_id.not_in(present or {""}), HouseChatMessage.tenant_id.is_(None))
        .execution_options(synchronize_session=False))


def trim(session: Session, house_id: str, now: datetime) -> None:
    """Forget what no flow may read any more: older than MAX_NEWS_DAYS, or beyond KEEP_PER_HOUSE."""
    session.execute(delete(HouseChatMessage).where(HouseChatMessage.sent_at < now - timedelta(days=MAX_NEWS_DAYS)))
    keep = select(HouseChatMessage.id).where(HouseChatMessage.house_id == house_id) \
        .order_by(HouseChatMessage.sent_at.desc(), HouseChatMessage.id.desc()).limit(KEEP_PER_HOUSE)
    session.execute(delete(HouseChatMessage).where(HouseChatMessage.house_id == house_id,
                                                   HouseChatMessage.id.not_in(keep.scalar_subquery()))
                    .execution_options(synchronize_session=False))


def record_post(session: Session, house_id: str, room_id: str, event_id: str, sender: str, body: str,
                tenant_id: int, now: datetime) -> None:
    """Note that the hotline posted this event for a tenant, so neighbours' answers to it reach her first.

    Written by whoever posted it, before the listener may have seen it; the listener's copy then only
    updates the row.
    """
    row = session.scalar(select(HouseChatMessage).where(HouseChatMessage.event_id == event_id))
    if row is None:
        row = HouseChatMessage(house_id=house_id, room_id=room_id, event_id=event_id, sender=sender,
                               sender_name="", body=body, msgtype="m.text", sent_at=now, from_hotline=True)
        session.add(row)
    row.tenant_id = tenant_id


def house_news(session: Session, caller: Caller, now: datetime) -> tuple[NewsItem, ...]:
    """The caller's house room as stored, oldest first; empty when the caller has no house chat. Two small queries."""
    if not caller.house_chat or not caller.house_id:
        return ()
    rows = session.scalars(select(HouseChatMessage).where(
        HouseChatMessage.house_id == caller.house_id,
        HouseChatMessage.sent_at >= now - timedelta(days=MAX_NEWS_DAYS),
    ).order_by(HouseChatMessage.sent_at, HouseChatMessage.id)).all()
    if not rows:
        return ()
    tenant_id = session.scalar(select(TenantPhone.tenant_id).where(TenantPhone.number == caller.number))
    hers = {row.event_id for row in rows if row.tenant_id is not None and row.tenant_id == tenant_id}
    return tuple(
        NewsItem(row.sender_name, row.body, row.msgtype, row.sent_at, from_hotline=row.from_hotline,
                 answer_to_caller=row.reply_to in hers and not row.from_hotline)
        for row in rows if row.event_id not in hers)


def _at(message: RoomMessage) -> datetime:
    return datetime.fromtimestamp(message.timestamp_ms / 1000, timezone.utc)
