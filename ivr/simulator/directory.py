"""Call contexts from the directory, for simulated calls: the configured database or a folder loaded aside."""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path

from ivr.config import Settings
from ivr.engine.context import CallContext


class DirectoryContexts:
    """Context manager giving context(number, when) built by the same routing code as live calls.

    With a folder, the folder is imported into a temporary SQLite database (nothing touches the
    configured one). Without, the configured database is used; if it holds no tenants yet, the
    demo folder is loaded aside and `note` says so.
    """

    def __init__(self, settings: Settings, folder: str | None = None, prefer_folder: bool = False):
        self.settings = settings
        self.folder = folder
        self.prefer_folder = prefer_folder
        self.note = ""
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._engine = None
        self._sessions = None

    def __enter__(self) -> "DirectoryContexts":
        from ivr.db import make_engine, session_factory, upgrade
        from ivr.directory.importer import import_directory

        url = self.settings.database_url
        if self.folder is None and not self._has_tenants(url):
            self.folder = str(self.settings.data_dir / "demo")
            self.note = f"(the database has no directory yet: using {self.folder}; run 'hausruf import' to load yours)"
        if self.folder is not None:
            self._tmp = tempfile.TemporaryDirectory(prefix="hausruf-sim-")
            url = f"sqlite:///{Path(self._tmp.name) / 'directory.sqlite3'}"
            upgrade(url)
        self._engine = make_engine(url)
        self._sessions = session_factory(self._engine)
        if self.folder is not None:
            with self._sessions.begin() as session:
                import_directory(session, Path(self.folder))
        return self

    def _has_tenants(self, url: str) -> bool:
        from sqlalchemy import func, select
        from sqlalchemy.exc import SQLAlchemyError

        from ivr.db import make_engine, session_factory, upgrade
        from ivr.db.models import Tenant

        try:
            upgrade(url)
            engine = make_engine(url)
            with session_factory(engine)() as session:
                count = session.scalar(select(func.count()).select_from(Tenant))
            engine.dispose()
            return bool(count)
        except SQLAlchemyError:
            return False

    def context(self, number: str, when: datetime) -> CallContext:
        """The context a live call from this number at this moment would get."""
        from ivr.directory.routing import build_context

        with self._sessions() as session:
            return build_context(session, number, when.astimezone(timezone.utc), self.settings)

    def __exit__(self, *exc) -> None:
        if self._engine is not None:
            self._engine.dispose()
        if self._tmp is not None:
            self._tmp.cleanup()
