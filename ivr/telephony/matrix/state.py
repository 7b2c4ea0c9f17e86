"""What the Matrix channel keeps in the database between runs (table matrix_state): small keyed values.

"sync_token": where the worker's /sync resumes; "unreadable:!room": an encrypted message came there. In the database rather than a file, so that it is
backed up with the rest and a second worker machine resumes where the first stopped.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.db.models import MatrixState

SYNC_TOKEN = "sync_token"
UNREADABLE = "unreadable:"  # + room id: when the last encrypted message the hotline could not read came


class StateStore:
    """Get and set values, each in its own short transaction."""

    def __init__(self, sessions: Callable[[], Session]):
        self.sessions = sessions

    def get(self, key: str) -> str | None:
        with self.sessions() as session:
            row = session.get(MatrixState, key)
            return row.value if row is not None else None

    def set(self, key: str, value: str) -> None:
        with self.sessions() as session:
            row = session.get(MatrixState, key)
            if row is None:
                session.add(MatrixState(key=key, value=value))
            else:
                row.value = value
            try:
                session.commit()
            except IntegrityError:  # another process stored it at the same moment: last one wins
                session.rollback()
                session.get(MatrixState, key).value = value
                session.commit()

    def unreadable_rooms(self) -> dict[str, str]:
        """Rooms where a helper's message could not be read (encrypted), with when it came."""
        from sqlalchemy import select

        with self.sessions() as session:
            rows = session.scalars(select(MatrixState).where(MatrixState.key.like(f"{UNREADABLE}%")))
            return {row.key.removeprefix(UNREADABLE): row.value for row in rows}
