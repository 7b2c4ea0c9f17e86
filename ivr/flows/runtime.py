"""The flows a running server answers with, and the small API the staff console uses for them.

    live = hausruf(current_app).flows                # a LiveFlows (ivr.wiring)
    live.current()                  the FlowSet new calls use (reloaded when a file changed)
    live.overview()                 every flow file: what is served, its problems, its stored revisions
    live.store_upload(name, text)   check an uploaded flow; refused with the checker's problems, or
                                    written to the flows folder and made the current revision everywhere

Which revision is served is decided in ivr.flows.revisions (the most recently loaded clean one);
this module notices edited files (at most every two seconds) and asks the database what the other
servers loaded (in the background, so a webhook never waits for it).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from ivr.flows.checker import duplicate_flows
from ivr.flows.flowset import FlowSet, FlowStatus
from ivr.flows.loader import FLOW_SUFFIXES, parse_flow_text
from ivr.flows.problems import ERROR, Problem
from ivr.flows.revisions import RevisionArchive, StoredRevision

log = logging.getLogger("hausruf.flows")
CHECK_EVERY_SECONDS = 2.0
MAX_FLOW_BYTES = 512 * 1024


@dataclass(frozen=True)
class FlowOverview:
    """One flow file for the console: what is served and why, and every stored revision of its flow."""

    status: FlowStatus
    revisions: list[StoredRevision] = field(default_factory=list)  # newest load first


@dataclass(frozen=True)
class UploadResult:
    """What became of an uploaded flow text: stored (then `flow` is what calls get) or refused (problems)."""

    stored: bool
    problems: list[Problem]
    path: Path | None = None

    @property
    def messages(self) -> list[str]:
        """The problems as `file:line: message` lines, as `hausruf check` prints them."""
        return [str(p) for p in self.problems]


class LiveFlows:
    """A FlowSet that notices edited files (checked at most every two seconds) and reloads safely.

    Every clean revision loaded goes to the archive (the database); if the database is down, the
    loads wait in memory and each later check tries again, so a server still starts and answers.
    """

    def __init__(self, directory: Path, archive: RevisionArchive | None = None,
                 check_every: float = CHECK_EVERY_SECONDS):
        self.flowset = FlowSet(directory, archive)
        self.directory = Path(directory)
        self.check_every = check_every
        self._stamp: tuple = ()
        self._checked = 0.0
        self._lock = threading.Lock()
        self._syncing = threading.Lock()
        self._reload_if_changed(force=True)

    def _files_stamp(self) -> tuple:
        if not self.directory.is_dir():
            return ()
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                            for p in self.directory.iterdir() if p.suffix in FLOW_SUFFIXES))

    def _reload_if_changed(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.check_every:
            return
        with self._lock:
            self._checked = now
            stamp = self._files_stamp()
            if stamp == self._stamp and not force:
                if self.flowset.unsaved:  # the database failed at the last load; it may be back
                    self.flowset.sync()
                else:
                    self._sync_in_background()  # another server may have loaded a newer revision
                return
            self._stamp = stamp
            problems = self.flowset.reload()
            for problem in problems:
                (log.error if problem.severity == "error" else log.warning)("flow problem: %s", problem)
            for status in self.flowset.status():
                if status.note:
                    log.error("flow %s", status.note)

    def _sync_in_background(self) -> None:
        if self.flowset.archive is None or not self._syncing.acquire(blocking=False):
            return

        def run() -> None:
            try:
                self.flowset.sync()
            except Exception:  # noqa: BLE001 - the next check tries again; calls keep the flows they have
                log.exception("could not read the current flow revisions")
            finally:
                self._syncing.release()

        threading.Thread(target=run, name="flow-sync", daemon=True).start()

    def current(self) -> FlowSet:
        """The flow set, reloaded first if a flow file changed."""
        self._reload_if_changed()
        return self.flowset

    def sync_now(self) -> bool:
        """Reread the files if changed and ask the database for the current revisions now (tests, console)."""
        self._reload_if_changed(force=True)
        return self.flowset.sync()

    def overview(self) -> list[FlowOverview]:
        """Every flow file with what is served, its problems and the stored revisions of its flow."""
        self._reload_if_changed()
        stored = self.flowset.archive.stored() if self.flowset.archive else None
        found = []
        for status in self.flowset.status():
            revisions = [r for r in (stored or []) if status.key and r.key == status.key]
            found.append(FlowOverview(status, revisions))
        return found

    def check_upload(self, file_name: str, text: str) -> list[Problem]:
        """Every problem of an uploaded flow text as if it were the file file_name in the flows folder."""
        shown = Path(file_name).name
        if shown != file_name or Path(shown).suffix not in FLOW_SUFFIXES or shown.startswith("."):
            return [Problem(file_name, 1, f"not a flow file name; allowed: a plain name ending in "
                                          f"{' or '.join(FLOW_SUFFIXES)}, e.g. hotline.yaml")]
        if len(text.encode("utf-8")) > MAX_FLOW_BYTES:
            return [Problem(shown, 1, f"the file is larger than {MAX_FLOW_BYTES // 1024} KB")]
        flow, problems = parse_flow_text(text, shown)
        if flow is None:
            return problems
        others = [f for f in self.flowset.flows() if Path(f.where.path).name != shown]
        clashes = [p for p in duplicate_flows([*others, flow]) if p.path == shown]
        return sorted(problems + [Problem(shown, p.line, p.message + "; upload it under that file name to "
                                          "replace it") for p in clashes])

    def store_upload(self, file_name: str, text: str) -> UploadResult:
        """Check an uploaded flow; a clean one is written to the flows folder and becomes the current revision.

        Refused (nothing written, nothing stored) when any problem is an error; warnings come back
        either way. Calls in progress keep the revision they started on.
        """
        problems = self.check_upload(file_name, text)
        if any(p.severity == ERROR for p in problems):
            return UploadResult(False, problems)
        target = self.directory / file_name
        temporary = target.with_name(f".{target.name}.upload")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)  # a server reading the folder never sees half a file
        flow, _ = parse_flow_text(text, str(target))
        with self._lock:
            self._stamp = self._files_stamp()
            self._checked = time.monotonic()
            self.flowset.record_upload(flow)
        log.info("flow %s uploaded as revision %s", target, flow.revision)
        return UploadResult(True, problems, target)


def peek_flow_key(path: Path) -> tuple[str, str] | None:
    """(name, language) that a flow file says, even when it is broken; the file name when the YAML is unreadable.

    hotline.en.yaml is (hotline, en); a file name without a language gives None for an unreadable text.
    """
    from ruamel.yaml import YAML

    stem, _, language = Path(path).stem.partition(".")
    name = stem
    try:
        data = YAML(typ="safe", pure=True).load(Path(path).read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - any unreadable text: fall back to the file name
        data = None
    if isinstance(data, dict):
        name = str(data.get("name") or name)
        language = str(data.get("language") or language)
    return (name, language) if language else None


def init_app(app: Flask) -> None:
    """Load the flows once, storing their revisions in the app's database; each request sees the current set."""
    from ivr.wiring import hausruf

    wiring = hausruf(app)
    archive = RevisionArchive(wiring.sessions, wiring.read_sessions)  # after ivr.db.init_app
    wiring.flows = LiveFlows(wiring.settings.flows_dir, archive)
