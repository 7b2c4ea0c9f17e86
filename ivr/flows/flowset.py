"""The flows a server runs: every flow file of a directory, reloaded without ever losing a good flow."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.flows.checker import duplicate_flows
from ivr.flows.loader import flow_files, read_flow_file
from ivr.flows.model import Flow
from ivr.flows.problems import ERROR, Problem

if TYPE_CHECKING:
    from ivr.flows.revisions import RevisionArchive


class FlowSet:
    """Flows by (name, language); a broken file keeps its last good flow, and old revisions stay loadable.

    With an archive, every revision loaded is also stored in the database, and a revision this
    process never loaded (it started before a restart, or in another server) is read back from there.
    """

    def __init__(self, directory: str | Path, archive: RevisionArchive | None = None):
        self.directory = Path(directory)
        self.archive = archive
        self.problems: list[Problem] = []
        self._by_path: dict[str, Flow] = {}  # the last good flow of each file
        self._current: dict[tuple[str, str], Flow] = {}
        self._revisions: dict[str, Flow] = {}  # every revision ever loaded: calls finish on the one they began
        self._unsaved: dict[str, Flow] = {}  # loaded revisions the archive does not have yet
        self._lock = threading.Lock()  # one reload at a time; readers see whole dicts swapped in

    @classmethod
    def load(cls, directory: str | Path) -> "FlowSet":
        """A FlowSet with the directory read once."""
        flows = cls(directory)
        flows.reload()
        return flows

    def reload(self) -> list[Problem]:
        """Read the directory again; returns every problem, and keeps the last good flow of a broken file."""
        with self._lock:
            problems: list[Problem] = []
            by_path: dict[str, Flow] = {}
            paths = flow_files(self.directory) if self.directory.is_dir() else []
            if not self.directory.is_dir():
                problems.append(Problem(str(self.directory), 1, "no such directory", ERROR))
            for path in paths:
                flow, found = read_flow_file(path)
                problems.extend(found)
                if flow is None:
                    flow = self._by_path.get(str(path))
                elif flow.revision in self._revisions:
                    flow = self._revisions[flow.revision]  # unchanged text: keep the very same object
                if flow is not None:
                    by_path[str(path)] = flow
            duplicates = duplicate_flows(list(by_path.values()))
            for problem in duplicates:
                del by_path[problem.path]  # the first file by path wins, as `hausruf check` reports
            current = {(f.name, f.language): f for f in by_path.values()}
            revisions = dict(self._revisions)
            revisions.update((f.revision, f) for f in by_path.values())
            self._unsaved.update((f.revision, f) for f in by_path.values() if f.revision not in self._revisions)
            self._by_path, self._current, self._revisions = by_path, current, revisions
            self.problems = sorted(problems + duplicates)
            self._save_unsaved()
            return self.problems

    @property
    def unsaved(self) -> bool:
        """Whether some loaded revision still waits to be stored (the database failed so far)."""
        return bool(self._unsaved) and self.archive is not None

    def save_revisions(self) -> bool:
        """Store the loaded revisions the archive lacks; False if the database failed again."""
        with self._lock:
            return self._save_unsaved()

    def _save_unsaved(self) -> bool:
        if not self.unsaved:
            return True
        pending = list(self._unsaved.values())
        if not self.archive.save(pending):
            return False
        for flow in pending:
            del self._unsaved[flow.revision]
        return True

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
