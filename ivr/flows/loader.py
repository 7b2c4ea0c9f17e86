"""Load flow files: the outer layer reads the disk, the inner ones turn text into a checked Flow.

    parse_flow_text(text, path)  text -> (Flow | None, problems); never raises for bad input
    read_flow_file(path)         file -> (Flow | None, problems); unreadable files are a problem too
    load_flow_file(path)         file -> Flow, or FlowError with every problem
    check_paths(paths)           files and directories -> every problem, cross-file ones included
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ivr.flows.checker import check_references, check_templates, duplicate_flows
from ivr.flows.kinds import DEFAULT_SETTINGS, FLOW
from ivr.flows.model import Flow, Where
from ivr.flows.problems import ERROR, WARNING, FlowError, Problem
from ivr.flows.schema import INVALID
from ivr.flows.yamlsource import Collector, Cursor, parse_yaml

FLOW_SUFFIXES = (".yaml", ".yml")


def revision_of(text: str) -> str:
    """The revision of a flow text: a call keeps the revision it started on."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def parse_flow_text(text: str, path: str) -> tuple[Flow | None, list[Problem]]:
    """Every problem of a flow text, sorted, and the Flow when none of them is an error."""
    document, problems = parse_yaml(text, path)
    if document is None:
        return None, problems
    if document.data is None:
        return None, [Problem(path, 1, "the file is empty; a flow starts with 'version: 1'")]
    collector = Collector(settings={"defaults": dict(DEFAULT_SETTINGS)})
    root = Cursor(document, (), collector)
    values = FLOW.convert(document.data, root)
    nodes = document.data.get("nodes") if isinstance(document.data, dict) else None
    node_ids = [key for key in nodes if isinstance(key, str)] if isinstance(nodes, dict) else []
    check_references(collector, node_ids, root / "nodes")
    check_templates(collector)
    problems = sorted(collector.problems)
    if values is INVALID or collector.has_errors:
        return None, problems
    flow = Flow(
        name=values["name"],
        language=values["language"],
        start=values["start"],
        nodes=values["nodes"],
        globals=values["globals"],
        where=Where(path, document.line(("name",))),
        revision=revision_of(text),
        text=text,
    )
    return flow, problems


def read_flow_file(path: str | Path) -> tuple[Flow | None, list[Problem]]:
    """Read and parse one file; the path appears in problems as given."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return None, [Problem(str(path), 1, f"cannot read the file: {reason}")]
    return parse_flow_text(text, str(path))


def load_flow_file(path: str | Path) -> Flow:
    """The checked Flow of one file; FlowError carries every problem if any is an error."""
    flow, problems = read_flow_file(path)
    if flow is None:
        raise FlowError(problems)
    return flow


def flow_files(directory: str | Path) -> list[Path]:
    """The flow files directly inside a directory; subfolders (tests/, prompts/) hold other things."""
    directory = Path(directory)
    return sorted(p for p in directory.iterdir() if p.suffix in FLOW_SUFFIXES and p.is_file())


def expand_paths(paths: list[str]) -> tuple[list[str], list[Problem]]:
    """The flow files named by files and directories, and a problem for each path that is neither."""
    files: list[str] = []
    problems: list[Problem] = []
    for path in paths:
        if os.path.isdir(path):
            found = flow_files(path)
            files.extend(os.path.join(path, p.name) for p in found)
            if not found:
                problems.append(Problem(path, 1, "no flow files (*.yaml, *.yml) in this directory", WARNING))
        elif os.path.exists(path):
            files.append(path)
        else:
            problems.append(Problem(path, 1, "no such file or directory", ERROR))
    return files, problems


def check_paths(paths: list[str]) -> list[Problem]:
    """Every problem in these files and directories, sorted, including two files for one flow and language."""
    files, problems = expand_paths(paths)
    flows = []
    for path in dict.fromkeys(files):  # a file named twice is checked once
        flow, found = read_flow_file(path)
        problems.extend(found)
        if flow is not None:
            flows.append(flow)
    return sorted(problems + duplicate_flows(flows))
