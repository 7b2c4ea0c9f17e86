"""Every prompt text of a set of flows, walked generically over the flow model's dataclasses, and its recording."""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ivr.flows.model import Flow, Option, Prompt, Where
from ivr.flows.problems import WARNING, Problem


def _prompts(value) -> Iterator[Prompt]:
    """Prompts anywhere inside a node, option or retry: new node kinds need no change here."""
    if isinstance(value, Prompt):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _prompts(getattr(value, field.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _prompts(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _prompts(item)


def prompt_segments(flows: Iterable[Flow]) -> Iterator[tuple[str, str]]:
    """(segment, language) of every prompt of every flow, templates included, in flow order."""
    for flow in flows:
        for prompt in _prompts([flow.nodes, flow.globals]):
            for segment in prompt.segments:
                yield segment, flow.language


def is_template(segment: str) -> bool:
    """A segment with template syntax differs per caller, so it renders on first use, not ahead of time."""
    return "{" in segment


def collect_prompt_texts(flows: Iterable[Flow]) -> list[tuple[str, str]]:
    """Distinct (text, language) pairs that can be rendered ahead of time (templated segments left out)."""
    return list(dict.fromkeys(pair for pair in prompt_segments(flows) if not is_template(pair[0])))


# -- prompts by name, for human recordings ------------------------------------------------------------
#
# A recording belongs to the prompt it was made for, named by where the prompt is in the flow, not by
# a hash of its text: editing the text keeps the recording (and `hausruf check` says it needs
# recording again). Next to `main_menu.wav` a small `main_menu.txt` holds the words it says.

RECORDING_SUFFIX = ".wav"
TEXT_SUFFIX = ".txt"
_SPOKEN_FIELDS = ("prompt", "say")  # a node's `prompt` and an option's `say` are its own voice: not in the name


@dataclasses.dataclass(frozen=True)
class NamedPrompt:
    """One text a caller hears, the name its recording has, and where it is in the flow file."""

    name: str  # e.g. main_menu, main_menu.option1, main_menu.no_input, globals.emergency.advice.2
    text: str
    language: str
    where: Where
    subject: str  # how messages name it: node 'main_menu' options[0].say


def _named(value, path: tuple[str, ...], keys: tuple) -> Iterator[tuple[tuple[str, ...], tuple, Prompt]]:
    """(name parts, key path, prompt) anywhere inside a node, option or retry: new kinds need no change here."""
    if isinstance(value, Prompt):
        yield path, keys, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _named(getattr(value, field.name), path + (field.name,), keys + (field.name,))
    elif isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            # An option is named by its key, which never moves: `main_menu.option1`.
            part = f"option{item.key}" if isinstance(item, Option) else str(index + 1)
            yield from _named(item, path[:-1] + (part,) if isinstance(item, Option) else path + (part,), keys + (index,))


def named_prompts(flow: Flow) -> list[NamedPrompt]:
    """Every prompt segment of a flow with its recording name, nodes first, then the globals."""
    roots = [((node_id,), ("nodes", node_id), node) for node_id, node in flow.nodes.items()]
    roots += [(("globals", name), ("globals", name), option) for name, option in flow.globals.items()]
    found = []
    for name_root, key_root, value in roots:
        for path, keys, prompt in _named(value, name_root, ()):
            parts = path[:-1] if path[-1] in _SPOKEN_FIELDS else path
            base = ".".join(parts)
            subject = _subject(key_root + keys)
            for index, text in enumerate(prompt.segments, 1):
                many = len(prompt.segments) > 1
                found.append(NamedPrompt(f"{base}.{index}" if many else base, text, flow.language, prompt.where,
                                         f"{subject}[{index - 1}]" if many else subject))
    return found


def _subject(keys: tuple) -> str:
    nodes = keys[0] == "nodes"
    text = f"node '{keys[1]}'" if nodes else f"globals.{keys[1]}"
    for position, key in enumerate(keys[2:]):
        text += f"[{key}]" if isinstance(key, int) else (f" {key}" if nodes and position == 0 else f".{key}")
    return text


def recordable(prompts: Iterable[NamedPrompt]) -> list[NamedPrompt]:
    """The prompts a person can record: the same words for every caller (no template syntax)."""
    return [p for p in prompts if not is_template(p.text)]


def recording_folder(flow_path: str | os.PathLike, language: str) -> Path:
    """Where the recordings of a flow file's prompts live: `prompts/<language>/` beside the flow file."""
    return Path(flow_path).parent / "prompts" / language


@dataclasses.dataclass(frozen=True)
class RecordingReport:
    """What `hausruf check` says about one flow's recordings: warnings, and the prompts still synthetic."""

    problems: list[Problem]
    unrecorded: list[str]
    folder: Path


def check_recordings(flow: Flow, flow_path: str) -> RecordingReport:
    """Recordings whose text changed since they were made, or whose text file is missing, or that no prompt owns."""
    folder = recording_folder(flow_path, flow.language)
    prompts = recordable(named_prompts(flow))
    problems: list[Problem] = []
    unrecorded: list[str] = []
    for prompt in prompts:
        audio = folder / f"{prompt.name}{RECORDING_SUFFIX}"
        if not audio.is_file():
            unrecorded.append(prompt.name)
            continue
        sidecar = audio.with_suffix(TEXT_SUFFIX)
        shown = _shown(audio)
        if not sidecar.is_file():
            problems.append(Problem(flow_path, prompt.where.line, (
                f"{prompt.subject}: the recording {shown} has no text file {sidecar.name}; write the words it says "
                f"into it, so that a change of the prompt is noticed"), WARNING))
            continue
        recorded = " ".join(sidecar.read_text(encoding="utf-8").split())
        if recorded != " ".join(prompt.text.split()):
            problems.append(Problem(flow_path, prompt.where.line, (
                f"{prompt.subject}: the recording {shown} says '{recorded}', but the prompt now says "
                f"'{prompt.text}'; record it again and write the new words into {sidecar.name}"), WARNING))
    names = {p.name for p in prompts}
    if folder.is_dir():
        for audio in sorted(folder.glob(f"*{RECORDING_SUFFIX}")):
            if audio.stem not in names:
                close = difflib.get_close_matches(audio.stem, sorted(names), n=1)
                hint = f"; did you mean '{close[0]}{RECORDING_SUFFIX}'?" if close else ""
                problems.append(Problem(_shown(audio), 1, (
                    f"no prompt of flow '{flow.name}' ({flow.language}) is named '{audio.stem}', so callers never "
                    f"hear this recording{hint} (`hausruf prompts list` shows the names)"), WARNING))
    return RecordingReport(problems, unrecorded, folder)


def _shown(path: Path) -> str:
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else str(path)


def recordings_by_text(flows: Iterable[tuple[Flow, str]]) -> dict[tuple[str, str], Path]:
    """(text, language) -> the recording staff made for a prompt with that text now (first one wins)."""
    found: dict[tuple[str, str], Path] = {}
    for flow, flow_path in flows:
        folder = recording_folder(flow_path, flow.language)
        if not folder.is_dir():
            continue
        for prompt in recordable(named_prompts(flow)):
            audio = folder / f"{prompt.name}{RECORDING_SUFFIX}"
            if audio.is_file():
                found.setdefault((prompt.text, prompt.language), audio)
    return found


def check_recording_folders(paths: list[str]) -> tuple[list[Problem], list[str]]:
    """For `hausruf check`: recording warnings, and one note per recording folder listing prompts without one.

    Only flows that have a recording folder are looked at: without one, every prompt is synthetic on purpose.
    """
    from ivr.flows.loader import expand_paths, read_flow_file

    files, _ = expand_paths(paths)
    problems: list[Problem] = []
    notes: list[str] = []
    for path in dict.fromkeys(files):
        flow, _ = read_flow_file(path)
        if flow is None or not recording_folder(path, flow.language).is_dir():
            continue
        report = check_recordings(flow, path)
        problems.extend(report.problems)
        if report.unrecorded:
            total = len(recordable(named_prompts(flow)))
            notes.append(f"{_shown(report.folder)}: {len(report.unrecorded)} of {total} prompts of {path} have no "
                         f"recording (callers hear the synthetic voice): {', '.join(report.unrecorded)}")
    return sorted(problems), notes
