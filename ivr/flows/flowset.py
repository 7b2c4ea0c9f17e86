"""The flows a server runs: every flow file of a directory, reloaded without ever losing a good flow."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.flows.checker import duplicate_flows
from ivr.flows.loader import flow_files, read_flow_file
from ivr.flows.model import Flow
from ivr.flows.problems import ERROR, Problem

if TYPE_CHECKING:
    from ivr.flows.revisions import Load, RevisionArchive, StoredRevision


@dataclass(frozen=True)
class FlowFile:
    """One flow file as last read: its clean flow (None when broken), its problems, which flow it is."""

    path: str
    key: tuple[str, str] | None  # (name, language); for a broken file as far as it can still be told
    flow: Flow | None
    problems: tuple[Problem, ...]
    modified_at: datetime

    @property
    def broken(self) -> bool:
        return self.flow is None


@dataclass(frozen=True)
class FlowStatus:
    """What a server serves for one flow file, and why when it is not the file itself."""

    path: str
    key: tuple[str, str] | None
    serving: Flow | None  # the revision new calls get (None: no usable revision at all)
    file_revision: str | None  # the clean file's revision; None when the file is broken
    problems: tuple[Problem, ...] = ()
    note: str = ""  # empty when the file itself is served
    loaded_at: datetime | None = field(default=None, compare=False)  # when the serving revision was loaded

    @property
    def ok(self) -> bool:
        """Served from its current file, which has no error."""
        return not self.note


class FlowSet:
    """Flows by (name, language); a broken file keeps its last good flow, and old revisions stay loadable.

    With an archive (the database), the archive decides which revision of each flow is served: the
    most recently loaded clean one, by any server (ivr.flows.revisions); a revision this process
    never loaded (it started before a restart, or in another server) is read back from there.
    """

    def __init__(self, directory: str | Path, archive: RevisionArchive | None = None, server: str | None = None):
        self.directory = Path(directory)
        self.archive = archive
        self.server = server  # how this process is named in the archive's list of servers; default host:pid
        self.problems: list[Problem] = []
        self.files: dict[str, FlowFile] = {}
        self._by_path: dict[str, Flow] = {}  # the last good flow of each file
        self._current: dict[tuple[str, str], Flow] = {}
        self._revisions: dict[str, Flow] = {}  # every revision ever loaded: calls finish on the one they began
        self._pending: dict[str, Load] = {}  # loads the archive has not recorded yet (database down)
        self._stored: dict[tuple[str, str], StoredRevision] = {}  # the archive's current revisions, last seen
        self._lock = threading.RLock()  # one reload at a time; readers see whole dicts swapped in
        self._reported: tuple[dict[tuple[str, str], str], datetime] | None = None  # last told the archive

    @classmethod
    def load(cls, directory: str | Path) -> "FlowSet":
        """A FlowSet with the directory read once."""
        flows = cls(directory)
        flows.reload()
        return flows

    def reload(self) -> list[Problem]:
        """Read the directory again; returns every problem, and keeps the last good flow of a broken file."""
        from ivr.flows.revisions import Load

        with self._lock:
            problems: list[Problem] = []
            by_path: dict[str, Flow] = {}
            files: dict[str, FlowFile] = {}
            paths = flow_files(self.directory) if self.directory.is_dir() else []
            if not self.directory.is_dir():
                problems.append(Problem(str(self.directory), 1, "no such directory", ERROR))
            for path in paths:
                flow, found = read_flow_file(path)
                problems.extend(found)
                modified = _modified_at(path)
                if flow is not None and flow.revision in self._revisions:
                    flow = self._revisions[flow.revision]  # unchanged text: keep the very same object
                last_good = flow or self._by_path.get(str(path))
                key = (flow.name, flow.language) if flow else (last_good.name, last_good.language) if last_good \
                    else _key_of_broken(path, self._stored)
                files[str(path)] = FlowFile(str(path), key, flow, tuple(found), modified)
                if last_good is not None:
                    by_path[str(path)] = last_good
            duplicates = duplicate_flows(list(by_path.values()))
            for problem in duplicates:
                del by_path[problem.path]  # the first file by path wins, as `hausruf check` reports
                files[problem.path] = FlowFile(problem.path, None, None, (problem,), files[problem.path].modified_at)
            current = {(f.name, f.language): f for f in by_path.values()}
            revisions = dict(self._revisions)
            revisions.update((f.revision, f) for f in by_path.values())
            self._by_path, self._current, self._revisions, self.files = by_path, current, revisions, files
            self.problems = sorted(problems + duplicates)
            if self.archive is not None:
                for state in files.values():
                    if state.flow is not None:
                        self._pending[state.path] = Load(state.flow, state.modified_at)
                self._sync()
            return self.problems

    def sync(self) -> bool:
        """Serve what the archive says is current (another server may have loaded a newer revision); False if down."""
        with self._lock:
            return self._sync()

    def _sync(self) -> bool:
        if self.archive is None:
            return True
        if self._pending:
            stored = self.archive.record(list(self._pending.values()))
            if stored is not None:
                self._pending = {}
        else:
            stored = self.archive.current()
        if stored is None:
            return False  # the database is down: keep serving what this process has
        self._stored = stored
        for path, state in list(self.files.items()):
            if state.key is None and state.broken and not _is_duplicate(state):
                self.files[path] = FlowFile(path, _key_of_broken(Path(path), stored), None, state.problems,
                                            state.modified_at)
        current = dict(self._current)
        for state in self.files.values():
            found = stored.get(state.key) if state.key else None
            if found is None or (state.key in current and current[state.key].revision == found.revision):
                continue
            flow = self.by_revision(found.revision)
            if flow is not None:
                current[state.key] = flow
        self._current = current
        self._report_serving()
        return True

    def _report_serving(self) -> None:
        """Tell the archive which revisions this process serves: at once when they change, else once a minute."""
        serving = {key: flow.revision for key, flow in self._current.items()}
        now = datetime.now(timezone.utc)
        if self._reported is not None and self._reported[0] == serving and now - self._reported[1] < REPORT_EVERY:
            return
        if self.archive.report_serving(self.server or server_name(), serving, now):
            self._reported = (serving, now)

    @property
    def unsaved(self) -> bool:
        """Whether some loaded revision still waits to be stored (the database failed so far)."""
        return bool(self._pending) and self.archive is not None

    def save_revisions(self) -> bool:
        """Store the loaded revisions the archive lacks; False if the database failed again."""
        return self.sync()

    def record_upload(self, flow: Flow) -> bool:
        """Make an uploaded flow (already written to its file) the current revision everywhere."""
        from ivr.flows.revisions import Load

        with self._lock:
            self.reload()
            if self.archive is None:
                return True
            self._pending[flow.where.path] = Load(flow, datetime.now(timezone.utc), force=True)
            return self._sync()

    def get(self, name: str, language: str, fallback_language: str | None = None) -> Flow:
        """The flow in the caller's language, else in the fallback language; KeyError names what is loaded."""
        for lang in (language, fallback_language):
            flow = self._current.get((name, lang)) if lang else None
            if flow is not None:
                return flow
        loaded = ", ".join(f.key for f in self.flows()) or "none"
        raise KeyError(f"no flow '{name}' in language '{language}' (or '{fallback_language}'); loaded: {loaded}")

    def by_revision(self, revision: str) -> Flow | None:
        """The flow with this revision, current or older: from memory, else from the archive (then kept)."""
        flow = self._revisions.get(revision)  # every webhook comes here: a dict lookup unless it misses
        if flow is not None or self.archive is None or not revision:
            return flow
        flow = self.archive.fetch(revision)
        if flow is None:
            return None
        with self._lock:
            known = self._revisions.get(revision)  # another request may have fetched it meanwhile
            if known is not None:
                return known
            self._revisions = {**self._revisions, revision: flow}  # readers keep seeing whole dicts
        return flow

    def flows(self) -> list[Flow]:
        """The current flows, sorted by name and language."""
        return sorted(self._current.values(), key=lambda f: (f.name, f.language))

    def status(self) -> list[FlowStatus]:
        """One line of truth per flow file: what is served, and why when it is not the file."""
        current, stored = self._current, self._stored
        found = []
        for state in sorted(self.files.values(), key=lambda s: s.path):
            serving = current.get(state.key) if state.key else None
            loaded_at = stored[state.key].loaded_at if state.key in stored else None
            note = ""
            if state.flow is None and serving is not None:
                note = (f"{state.path} has errors; calls get the last good revision {serving.revision}"
                        + (f" (loaded {loaded_at:%Y-%m-%d %H:%M} UTC)" if loaded_at else ""))
            elif _is_duplicate(state):
                note = f"{state.path} is refused: {state.problems[0].message}"
            elif state.flow is None:
                note = f"{state.path} has errors and no earlier revision of it is stored"
            elif serving is not None and serving.revision != state.flow.revision:
                note = (f"{state.path} is older than revision {serving.revision}, loaded"
                        + (f" {loaded_at:%Y-%m-%d %H:%M} UTC" if loaded_at else "") + "; calls get that revision")
            found.append(FlowStatus(state.path, state.key, serving, state.flow.revision if state.flow else None,
                                    state.problems, note, loaded_at))
        return found


REPORT_EVERY = timedelta(minutes=1)


def server_name() -> str:
    """This server process as the console names it: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _modified_at(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    except OSError:
        return datetime.now(timezone.utc)


def _key_of_broken(path: Path, stored: dict) -> tuple[str, str] | None:
    """Which flow a broken file is: what its text still says, else the flow last stored from a file of its name."""
    from ivr.flows.runtime import peek_flow_key

    key = peek_flow_key(path)
    if key is not None:
        return key
    for found in sorted(stored.values(), key=lambda r: r.loaded_at, reverse=True):
        if Path(found.path).name == path.name:
            return found.key
    return None


def _is_duplicate(state: FlowFile) -> bool:
    return any(" is also defined in " in p.message for p in state.problems)
