"""Flow revisions in the database: the one source of truth of which revision every server serves.

Every clean flow text a server loads is stored under its revision (the hash of the text), with
`loaded_at`, the last time a server loaded it. The revision of a (name, language) with the newest
loaded_at is the current one, and every server serves it:

- a clean file counts as a new load when its text is not the current revision and the file was
  modified after the current revision was loaded (an edit on disk, an upload, a file put back to an
  older text: that old revision is stamped again and becomes the most recent);
- a file older than the current revision (a second server's folder not yet updated, a restart
  with a file from before an upload) does not replace it: that server serves the current revision
  from here, so two servers never disagree and a restart never goes back to an older file;
- a broken file is never stored and never replaces a revision;
- a call stores the revision it started on (ivr/calls/handler.py) and finishes on it
  (`fetch` rebuilds an old revision by the same loader that read the file).

The comparison trusts the servers' clocks and file modification times to within a second, as any
deployment that shares one database does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ivr.db.models import FlowRevision, FlowServerLoad
from ivr.db.types import utcnow
from ivr.flows.loader import parse_flow_text
from ivr.flows.model import Flow

log = logging.getLogger("hausruf.flows")

FORGET_SERVER_AFTER = timedelta(days=1)  # a server process silent this long has stopped (a restart, a crash)

# INSERT ... ON CONFLICT DO NOTHING: two servers starting at once store one revision once, neither fails.
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


@dataclass(frozen=True)
class StoredRevision:
    """What the database says about one revision (without its text)."""

    revision: str
    name: str
    language: str
    path: str
    first_seen_at: datetime
    loaded_at: datetime

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.language)


@dataclass(frozen=True)
class Load:
    """A clean flow read from its file, and when the file was last modified (or uploaded)."""

    flow: Flow
    modified_at: datetime
    force: bool = False  # an upload: the newest by definition, whatever the clocks say


def current_of(revisions: Iterable[StoredRevision]) -> dict[tuple[str, str], StoredRevision]:
    """The most recently loaded revision of each (name, language)."""
    current: dict[tuple[str, str], StoredRevision] = {}
    for stored in revisions:
        known = current.get(stored.key)
        if known is None or (stored.loaded_at, stored.revision) > (known.loaded_at, known.revision):
            current[stored.key] = stored
    return current


class RevisionArchive:
    """Stores flow revisions and their loads, and rebuilds them; a database failure is logged, never raised."""

    def __init__(self, sessions: sessionmaker[Session], readers: sessionmaker[Session] | None = None):
        self.sessions = sessions
        self.readers = readers or sessions  # read-only sessions need not wait for SQLite's write lock

    def save(self, flows: Iterable[Flow]) -> bool:
        """Store the revisions the database lacks (as loaded now); False if the database failed."""
        return self.record([Load(f, utcnow(), force=True) for f in flows], only_new=True) is not None

    def record(self, loads: list[Load], only_new: bool = False) -> dict[tuple[str, str], StoredRevision] | None:
        """Store each load that is newer than its flow's current revision; the current revisions after, or None.

        only_new stores revisions the database lacks without stamping known ones (old callers' save()).
        """
        now = utcnow()
        try:
            with self.sessions.begin() as session:
                current = current_of(self._stored(session))
                for load in loads:
                    flow = load.flow
                    if not flow.text:
                        continue
                    known = current.get((flow.name, flow.language))
                    if known is not None and known.revision == flow.revision:
                        continue
                    if known is not None and not load.force and load.modified_at <= known.loaded_at:
                        continue  # the file is older than the revision loaded since: it does not take over
                    self._stamp(session, flow, now, only_new)
                current = current_of(self._stored(session))
        except SQLAlchemyError as exc:
            log.error("could not store flow revisions %s (will try again): %s",
                      ", ".join(load.flow.revision for load in loads), _first_line(exc))
            return None
        return current

    def _stamp(self, session: Session, flow: Flow, now: datetime, only_new: bool) -> None:
        insert = _INSERTS[session.get_bind().dialect.name]
        row = {"revision": flow.revision, "name": flow.name, "language": flow.language, "path": flow.where.path,
               "source": flow.text, "first_seen_at": now, "loaded_at": now}
        session.execute(insert(FlowRevision).values([row]).on_conflict_do_nothing(index_elements=["revision"]))
        if not only_new:  # a known text loaded again (a file put back) becomes the most recent
            session.execute(update(FlowRevision).where(FlowRevision.revision == flow.revision)
                            .values(loaded_at=now, path=flow.where.path))

    @staticmethod
    def _stored(session: Session) -> list[StoredRevision]:
        rows = session.execute(select(FlowRevision.revision, FlowRevision.name, FlowRevision.language,
                                      FlowRevision.path, FlowRevision.first_seen_at, FlowRevision.loaded_at))
        return [StoredRevision(r.revision, r.name, r.language, r.path, r.first_seen_at, r.loaded_at or r.first_seen_at)
                for r in rows]

    def stored(self) -> list[StoredRevision] | None:
        """Every stored revision (without texts), newest load first; None if the database failed."""
        try:
            with self.readers() as session:
                found = self._stored(session)
        except SQLAlchemyError as exc:
            log.error("could not read flow revisions: %s", _first_line(exc))
            return None
        return sorted(found, key=lambda r: (r.loaded_at, r.revision), reverse=True)

    def current(self) -> dict[tuple[str, str], StoredRevision] | None:
        """The revision every server serves, by (name, language); None if the database failed."""
        found = self.stored()
        return None if found is None else current_of(found)

    def report_serving(self, server: str, serving: dict[tuple[str, str], str], now: datetime) -> bool:
        """Note which revision this server process serves of each flow: a changed one as loaded now, the
        others as still served; forget processes silent for a day. False if the database failed."""
        try:
            with self.sessions.begin() as session:
                rows = {(r.name, r.language): r for r in session.scalars(
                    select(FlowServerLoad).where(FlowServerLoad.server == server))}
                for (name, language), revision in serving.items():
                    row = rows.pop((name, language), None)
                    if row is None:
                        session.add(FlowServerLoad(server=server, name=name, language=language, revision=revision,
                                                   loaded_at=now, seen_at=now))
                        continue
                    if row.revision != revision:
                        row.revision, row.loaded_at = revision, now
                    row.seen_at = now
                for row in rows.values():  # a flow this server no longer has
                    session.delete(row)
                session.execute(delete(FlowServerLoad).where(FlowServerLoad.seen_at < now - FORGET_SERVER_AFTER))
        except SQLAlchemyError as exc:
            log.error("could not note the flows this server serves (will try again): %s", _first_line(exc))
            return False
        return True

    def server_loads(self) -> list[FlowServerLoad] | None:
        """What every server process said it serves, by flow and server; None if the database failed."""
        try:
            with self.readers() as session:
                rows = list(session.scalars(select(FlowServerLoad).order_by(
                    FlowServerLoad.name, FlowServerLoad.language, FlowServerLoad.server)))
                session.expunge_all()
                return rows
        except SQLAlchemyError as exc:
            log.error("could not read which flows the servers serve: %s", _first_line(exc))
            return None

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
