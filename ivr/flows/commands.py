"""`hausruf check`, `hausruf schema` and `hausruf docs reference`: thin wrappers over the flows package."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from ivr.config import Settings
from ivr.flows.loader import check_paths, expand_paths
from ivr.flows.problems import ERROR, WARNING, Problem
from ivr.flows.reference import flow_json_schema, markdown_reference


def display_path(path: str | Path) -> str:
    """The path relative to the current directory when it lies below it, else as given."""
    relative = os.path.relpath(os.path.abspath(path))
    return relative if not relative.startswith("..") else str(path)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(problems: list[Problem], files: int) -> str:
    """`2 errors, 1 warning in 3 files`."""
    errors = sum(p.severity == ERROR for p in problems)
    warnings = sum(p.severity == WARNING for p in problems)
    return f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} in {_plural(files, 'file')}"


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path())
def check_command(paths: tuple[str, ...]) -> None:
    """Check flow files (default: the flows directory); exit 1 when any problem is an error."""
    if not paths:
        paths = (str(Settings.from_env().flows_dir),)
    shown_paths = [display_path(p) for p in paths]
    problems = check_paths(shown_paths)
    models = Settings.from_env().vosk_models
    if models:  # only when the operator configured speech: loading a model takes seconds
        from ivr.flows.vocabulary import check_vocabulary

        problems = sorted(problems + check_vocabulary(shown_paths, models))
    from ivr.flows.housechat import check_house_chat
    from ivr.telephony.matrix.settings import MatrixSettings  # a declaration of settings, no client library

    chat_notes = check_house_chat(shown_paths, Settings.from_env().group(MatrixSettings).enabled)
    from speech.flowtexts import check_recording_folders  # human recordings of prompts, by node and prompt

    recording_problems, notes = check_recording_folders(shown_paths)
    notes = chat_notes + notes
    problems = sorted(problems + recording_problems)
    for problem in problems:
        click.echo(str(problem))
    for note in notes:
        click.echo(note, err=True)
    files, _ = expand_paths(shown_paths)
    click.echo(summary(problems, len(set(files))), err=True)
    if any(p.severity == ERROR for p in problems):
        raise SystemExit(1)


@click.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of flow files (for editors)."""
    click.echo(json.dumps(flow_json_schema(), indent=2, ensure_ascii=False))


@click.group("docs")
def docs_group() -> None:
    """Generate documentation."""


@docs_group.command("reference")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="write to this file instead of printing")
def reference_command(output: str | None) -> None:
    """Print (or write) the flow file reference, docs/flow-reference.md."""
    text = markdown_reference()
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


def register(group: click.Group) -> None:
    """Add the flow commands to the `hausruf` group."""
    group.add_command(check_command)
    group.add_command(schema_command)
    docs = group.commands.get("docs")
    if isinstance(docs, click.Group):  # another subsystem made `docs` first: add to it
        docs.add_command(reference_command)
    else:
        group.add_command(docs_group)
