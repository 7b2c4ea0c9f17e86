"""YAML text -> plain data with the line of every key and item, and a cursor that reports problems at a place.

This is the middle layer of loading (file -> text -> mapping -> model): it never touches the disk.
ruamel's round-trip loader knows the line of each key and sequence item; we copy those lines into a
flat index keyed by key path, so an error anywhere resolves to the nearest place that has a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ivr.flows.model import Where
from ivr.flows.problems import ERROR, WARNING, Problem

KeyPath = tuple[Any, ...]
_DUPLICATE_KEY = re.compile(r'found duplicate key "(.*?)" with value')


@dataclass(frozen=True)
class Document:
    """A parsed YAML file: plain dicts, lists and scalars, plus the line of every key path that has one."""

    path: str
    data: Any
    lines: dict[KeyPath, int]

    def line(self, keypath: KeyPath) -> int:
        """The line of this key path, or of its nearest ancestor that has one (1 for the file itself)."""
        for end in range(len(keypath), 0, -1):
            found = self.lines.get(keypath[:end])
            if found is not None:
                return found
        return 1


def parse_yaml(text: str, path: str) -> tuple[Document | None, list[Problem]]:
    """Parse YAML text; a syntax error becomes a Problem at its line instead of an exception."""
    yaml = YAML(typ="rt")  # round-trip: keeps line numbers; YAML 1.2, so `no` stays a string
    try:
        raw = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        detail = exc.problem or exc.context or "invalid YAML"
        duplicate = _DUPLICATE_KEY.match(detail)
        if duplicate:  # ruamel would print both whole values, which can be entire nodes
            detail = f"duplicate key '{duplicate.group(1)}'; a key may appear once in a mapping"
        elif exc.context and exc.problem:
            started = exc.context_mark.line + 1 if exc.context_mark is not None else line
            # The parser notices a mistake where it stops, often a line after it; say where the part began.
            detail = f"{exc.problem} ({exc.context}" + (f" that starts on line {started})" if started != line else ")")
        return None, [Problem(path, line, f"YAML syntax error: {_one_line(detail)}")]
    except YAMLError as exc:  # errors without a position are rare (e.g. bad encoding markers)
        return None, [Problem(path, 1, f"YAML syntax error: {_one_line(str(exc))}")]
    lines: dict[KeyPath, int] = {}
    return Document(path, _plain(raw, (), lines), lines), []


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _plain(value: Any, keypath: KeyPath, lines: dict[KeyPath, int]) -> Any:
    """Copy ruamel's commented containers into dicts and lists, recording each key's and item's line."""
    if isinstance(value, CommentedMap):
        result = {}
        for key, item in value.items():
            lines[keypath + (key,)] = value.lc.key(key)[0] + 1
            result[key] = _plain(item, keypath + (key,), lines)
        return result
    if isinstance(value, CommentedSeq):
        result_list = []
        for index, item in enumerate(value):
            lines[keypath + (index,)] = value.lc.item(index)[0] + 1
            result_list.append(_plain(item, keypath + (index,), lines))
        return result_list
    if isinstance(value, bool) or value is None:
        return value
    # ruamel returns subclasses (ScalarFloat, ScalarInt, string types) that keep formatting; drop that.
    for plain_type in (int, float, str):
        if isinstance(value, plain_type):
            return plain_type(value)
    return value  # dates and timestamps: the field types reject them with a clear message


def _dotted(keypath: KeyPath) -> str:
    """`('options', 1, 'say')` -> `options[1].say`."""
    text = ""
    for key in keypath:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


@dataclass
class Collector:
    """Everything found while building one flow: problems, node references, flow-wide defaults."""

    problems: list[Problem] = field(default_factory=list)
    references: list[tuple[str, "Cursor"]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)  # flow `defaults` and globals, once built
    templates: list[tuple[str, "Cursor"]] = field(default_factory=list)  # checked once every node is read
    # Variables a flow makes itself, by name and key (e.g. answers an `ask` node collects): a node
    # kind adds its keys here while it is read, and the templates may then use them.
    declared: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        """Whether anything found so far stops the load."""
        return any(p.severity == ERROR for p in self.problems)


@dataclass(frozen=True)
class Cursor:
    """A place in a document: reports problems there, naming the node and key path in one format."""

    document: Document
    keypath: KeyPath
    collector: Collector

    def __truediv__(self, key: Any) -> "Cursor":
        return Cursor(self.document, self.keypath + (key,), self.collector)

    @property
    def value(self) -> Any:
        """The value at this key path (None if absent)."""
        value = self.document.data
        for key in self.keypath:
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                return None
        return value

    @property
    def where(self) -> Where:
        """File and (nearest) line of this place."""
        return Where(self.document.path, self.document.line(self.keypath))

    @property
    def node_id(self) -> str | None:
        """The id of the node this place belongs to, if it is inside `nodes`."""
        if len(self.keypath) >= 2 and self.keypath[0] == "nodes":
            return str(self.keypath[1])
        return None

    @property
    def subject(self) -> str:
        """How messages name this place: `node 'main_menu' options[1].key`, `globals.person`, or ''."""
        keypath = self.keypath
        head = ""
        if self.node_id is not None:
            head, keypath = f"node '{self.node_id}'", keypath[2:]
        return " ".join(part for part in (head, _dotted(keypath)) if part)

    def error_in_field(self, detail: str) -> None:
        """Report an error that reads as a sentence about a field: `node 'greet': prompt uses ...`."""
        split = 2 if self.node_id is not None or len(self.keypath) > 2 else 1
        head = f"node '{self.node_id}'" if self.node_id is not None else _dotted(self.keypath[:split])
        field = _dotted(self.keypath[split:])
        message = f"{head}: {field} {detail}" if field else f"{head}: {detail}"
        self.collector.problems.append(Problem(self.document.path, self.document.line(self.keypath), message, ERROR))

    def error(self, detail: str, key: Any = None) -> None:
        """Report an error here; with `key`, at the line of that key (for unknown or misspelt keys)."""
        self._report(detail, key, ERROR)

    def warn(self, detail: str, key: Any = None) -> None:
        """Report a warning here: printed and tested, but the flow still loads."""
        self._report(detail, key, WARNING)

    def _report(self, detail: str, key: Any, severity: str) -> None:
        line_path = self.keypath if key is None else self.keypath + (key,)
        message = f"{self.subject}: {detail}" if self.subject else detail
        self.collector.problems.append(
            Problem(self.document.path, self.document.line(line_path), message, severity)
        )
