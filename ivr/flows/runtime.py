"""The flows a running server answers with: reloaded when files change, last good flow kept."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from flask import Flask

from ivr.flows.flowset import FlowSet
from ivr.flows.revisions import RevisionArchive

log = logging.getLogger("hausruf.flows")
CHECK_EVERY_SECONDS = 2.0


class LiveFlows:
    """A FlowSet that notices edited files (checked at most every two seconds) and reloads safely.

    Every revision loaded goes to the archive (the database); if the database is down, the
    revisions wait in memory and each later check tries again, so a server still starts and answers.
    """

    def __init__(self, directory: Path, archive: RevisionArchive | None = None,
                 check_every: float = CHECK_EVERY_SECONDS):
        self.flowset = FlowSet(directory, archive)
        self.directory = Path(directory)
        self.check_every = check_every
        self._stamp: tuple = ()
        self._checked = 0.0
        self._lock = threading.Lock()
        self._reload_if_changed(force=True)

    def _files_stamp(self) -> tuple:
        if not self.directory.is_dir():
            return ()
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                            for p in self.directory.iterdir() if p.suffix in (".yaml", ".yml")))

    def _reload_if_changed(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.check_every:
            return
        with self._lock:
            self._checked = now
            stamp = self._files_stamp()
            if stamp == self._stamp and not force:
                if self.flowset.unsaved:  # the database failed at the last load; it may be back
                    self.flowset.save_revisions()
                return
            self._stamp = stamp
            problems = self.flowset.reload()
            for problem in problems:
                (log.error if problem.severity == "error" else log.warning)("flow problem: %s", problem)
            if any(p.severity == "error" for p in problems):
                log.error("flows with errors were refused; calls keep the last good version")

    def current(self) -> FlowSet:
        """The flow set, reloaded first if a flow file changed."""
        self._reload_if_changed()
        return self.flowset


def init_app(app: Flask) -> None:
    """Load the flows once, storing their revisions in the app's database; each request sees the current set."""
    from ivr.wiring import hausruf

    wiring = hausruf(app)
    archive = RevisionArchive(wiring.sessions, wiring.read_sessions)  # after ivr.db.init_app
    wiring.flows = LiveFlows(wiring.settings.flows_dir, archive)
