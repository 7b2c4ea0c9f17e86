"""Flow revisions in the database: every flow text a server loads, so a call outlives an edit and a restart.

A call stores the revision it started on (ivr/calls/handler.py). Memory holds the revisions this
process loaded; after a restart, or in a second server that has not reread an edited file yet,
the revision comes from here and is rebuilt by the same loader that read the file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ivr.db.models import FlowRevision
from ivr.db.types import utcnow
from ivr.flows.loader import parse_flow_text
from ivr.flows.model import Flow

log = logging.getLogger("hausruf.flows")

# INSERT ... ON CONFLICT DO NOTHING: two servers starting at once store one revision once, neither fails.
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class RevisionArchive:
    """Stores flow revisions once and rebuilds them; a database failure is logged, never raised."""

    def __init__(self, sessions: sessionmaker[Session], readers: sessionmaker[Session] | None = None):
        self.sessions = sessions
        self.readers = readers or sessions  # read-only sessions need not wait for SQLite's write lock

    def save(self, flows: Iterable[Flow]) -> bool:
        """Store the revisions the database lacks; False if the database failed (try again later)."""
        now = utcnow()
        rows = [{"revision": f.revision, "name": f.name, "language": f.language, "path": f.where.path,
                 "source": f.text, "first_seen_at": now} for f in flows if f.text]
        if not rows:
            return True
        try:
            with self.sessions.begin() as session:
                insert = _INSERTS[session.get_bind().dialect.name]
                session.execute(insert(FlowRevision).values(rows).on_conflict_do_nothing(index_elements=["revision"]))
        except SQLAlchemyError as exc:
            log.error("could not store flow revisions %s (will try again): %s",
                      ", ".join(row["revision"] for row in rows), _first_line(exc))
            return False
        return True

    def fetch(self, revision: str) -> Flow | None:
        """The flow of a stored revision, rebuilt from its text; None if unknown or unreadable."""
        try:
            with self.readers() as session:
                row = session.execute(select(FlowRevision.path, FlowRevision.source)
                                      .where(FlowRevision.revision == revision)).first()
        except SQLAlchemyError as exc:
            log.error("could not read flow revision %s: %s", revision, _first_line(exc))
            return None
        if row is None:
            return None
        flow, problems = parse_flow_text(row.source, row.path)
        if flow is None or flow.revision != revision:
            # Only if a newer loader refuses an old text; the call then continues on the current flow.
            log.error("stored flow revision %s no longer loads: %s", revision, "; ".join(map(str, problems)))
            return None
        return flow


def _first_line(exc: BaseException) -> str:
    # SQLAlchemy appends the statement and its parameters (the whole flow text) to the message.
    lines = str(exc).splitlines()
    return lines[0] if lines else type(exc).__name__
