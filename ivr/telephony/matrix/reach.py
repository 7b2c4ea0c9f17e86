"""Can the hotline reach its Matrix rooms? The worker records it; /healthz and the console read it.

The worker's listener (listener.py) is the one process talking to the homeserver all the time: after
every /sync it records whether the homeserver (and the sign-in) answered, and every few minutes (or
at once when the hotline was kicked from a room) whether each configured room (the helpers' room,
each house's chat_room) can be read and written. The records are rows of matrix_state
("reach:homeserver", "reach:room:<alias or id>") with the time of the check, so the web server
answers /healthz from the database without calling the homeserver inside a request. A record older
than STALE is "unknown": the worker has not looked lately (its own health says why).

Kept free of matrix-nio: the web server imports this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.db.models import House, MatrixState

REACH = "reach:"
HOMESERVER = f"{REACH}homeserver"
ROOM = f"{REACH}room:"  # + the room as configured (alias or id)
ROOM_CHECK_EVERY = timedelta(minutes=5)  # how often the worker looks at each configured room
STALE = timedelta(minutes=15)  # a record older than this says nothing any more: three room checks missed
UNREADABLE_DAYS = 7  # encrypted messages the hotline could not read are shown this long


def record_value(ok: bool, error: str, now: datetime) -> str:
    """What matrix_state keeps for one check."""
    return json.dumps({"ok": ok, "error": error, "at": now.astimezone(timezone.utc).isoformat()})


@dataclass(frozen=True)
class Reach:
    """One thing the hotline must reach: the homeserver, the helpers' room or a house's chat room.

    state: "ok", "failed" (error says why, in the homeserver's words) or "unknown" (never checked,
    or not lately); house: the house's name for a house room.
    """

    kind: str  # "homeserver", "helpers_room", "house_room", "unreadable"
    address: str
    state: str
    error: str = ""
    checked_at: datetime | None = None
    house: str | None = None

    def as_json(self) -> dict:
        found = {"what": self.kind, "address": self.address, "state": self.state,
                 "checked_at": self.checked_at.isoformat() if self.checked_at else None}
        if self.house:
            found["house"] = self.house
        return {**found, "error": self.error} if self.error else found

    def sentence(self) -> str:
        """The problem for an operator (English, as /healthz speaks); '' when all is well."""
        if self.state == "ok":
            return ""
        what = {"homeserver": f"the Matrix homeserver {self.address}",
                "helpers_room": f"the helpers' Matrix room {self.address}",
                "house_room": f"the chat room {self.address} of {self.house}"}.get(self.kind, self.address)
        if self.kind == "unreadable":
            return (f"Matrix room {self.address}: an end-to-end encrypted message could not be read "
                    f"({self.checked_at:%Y-%m-%d %H:%M} UTC); see README, Matrix")
        if self.state == "unknown":
            since = f"since {self.checked_at:%Y-%m-%d %H:%M} UTC" if self.checked_at else "yet"
            return f"Matrix: the worker has not checked {what} {since}: unknown whether it can be reached"
        consequence = ("no offers or replies in Matrix" if self.kind == "homeserver"
                       else "the hotline cannot read or write it")
        return f"Matrix: {what} failed: {self.error} ({consequence})"


def _parse(value: str | None, now: datetime) -> tuple[str, str, datetime | None]:
    """(state, error, checked_at) of a record; unknown when missing, unreadable or stale."""
    if not value:
        return "unknown", "", None
    try:
        found = json.loads(value)
        at = datetime.fromisoformat(found["at"])
    except (ValueError, KeyError, TypeError):
        return "unknown", "", None
    if now - at > STALE:
        return "unknown", "", at
    return ("ok" if found.get("ok") else "failed"), str(found.get("error") or ""), at


def read_reach(session: Session, homeserver: str, helpers_room: str | None, now: datetime) -> list[Reach]:
    """The homeserver, every configured room and recent unreadable rooms, as the worker last saw them."""
    from ivr.telephony.matrix.state import UNREADABLE

    rows = {row.key: row.value for row in session.scalars(select(MatrixState).where(
        MatrixState.key.like(f"{REACH}%") | MatrixState.key.like(f"{UNREADABLE}%")))}
    found = [Reach("homeserver", homeserver, *_parse(rows.get(HOMESERVER), now))]
    if helpers_room:
        found.append(Reach("helpers_room", helpers_room, *_parse(rows.get(f"{ROOM}{helpers_room}"), now)))
    for name, room in session.execute(select(House.name, House.chat_room).where(House.chat_room != "")
                                      .order_by(House.id)):
        found.append(Reach("house_room", room, *_parse(rows.get(f"{ROOM}{room}"), now), house=name))
    for key, value in sorted(rows.items()):
        if key.startswith(UNREADABLE):
            try:
                when = datetime.fromisoformat(value)
            except ValueError:
                continue
            if now - when <= timedelta(days=UNREADABLE_DAYS):
                found.append(Reach("unreadable", key.removeprefix(UNREADABLE), "failed",
                                   "an encrypted message could not be read", when))
    return found
