"""The outer layers of the import: files -> text -> rows (plain mappings that know their file and line).

One file per kind in the directory folder: regions, houses, tenants, volunteers, partners, each
as .yaml, .yml or .csv. YAML files hold a list of mappings; CSV files have a header row, are
read as UTF-8 (with or without BOM) and may use ',' or ';' (German spreadsheets) as delimiter.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from ivr.flows.problems import Problem

KINDS = ("regions", "houses", "tenants", "volunteers", "partners")  # import order: references point backwards
SUFFIXES = (".yaml", ".yml", ".csv")


@dataclass(frozen=True)
class Row:
    """One record as written in a file, before validation."""

    kind: str
    path: str
    line: int
    values: dict[str, Any]


def find_files(folder: Path) -> tuple[dict[str, Path], list[Problem]]:
    """The file for each kind found in folder; two files for one kind, or none at all, is a problem."""
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    if not folder.is_dir():
        return {}, [Problem(str(folder), 0, "not a directory")]
    from ivr.directory.extra import all_kinds

    for kind in all_kinds():
        candidates = [folder / f"{kind}{suffix}" for suffix in SUFFIXES if (folder / f"{kind}{suffix}").is_file()]
        if len(candidates) > 1:
            names = ", ".join(p.name for p in candidates)
            problems.append(Problem(str(candidates[1]), 0, f"{kind} is given twice ({names}); keep one file"))
        elif candidates:
            found[kind] = candidates[0]
    if not found and not problems:
        expected = ", ".join(f"{k}.yaml" for k in all_kinds())
        problems.append(Problem(str(folder), 0, f"no directory files found; expected some of {expected} (or .csv)"))
    return found, problems


def read_rows(kind: str, path: Path) -> tuple[list[Row], list[Problem]]:
    """Read one file; only this layer touches the disk."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(str(path), 0, f"cannot read: {exc}")]
    if path.suffix == ".csv":
        return csv_rows(kind, str(path), text)
    return yaml_rows(kind, str(path), text)


def yaml_rows(kind: str, path: str, text: str) -> tuple[list[Row], list[Problem]]:
    """A YAML list of mappings -> rows with the line of each mapping (1-based)."""
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        return [], [Problem(path, line, f"YAML syntax error: {exc.problem}")]
    if data is None:
        return [], []
    if not isinstance(data, list):
        return [], [Problem(path, 1, f"expected a list of {kind} (lines starting with '- '), got a {type(data).__name__}")]
    rows: list[Row] = []
    problems: list[Problem] = []
    for index, item in enumerate(data):
        line = data.lc.item(index)[0] + 1
        if not isinstance(item, dict):
            problems.append(Problem(path, line, f"expected a mapping of fields, got {item!r}"))
            continue
        rows.append(Row(kind, path, line, {str(k): _plain(v) for k, v in item.items()}))
    return rows, problems


def csv_rows(kind: str, path: str, text: str) -> tuple[list[Row], list[Problem]]:
    """CSV with a header row -> rows; empty cells are left out so defaults apply as in YAML."""
    if not text.strip():
        return [], []
    delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[Row] = []
    problems: list[Problem] = []
    start = 2  # the header is line 1
    for record in reader:
        if None in record:
            problems.append(Problem(path, start, f"more cells than the header has columns ({len(reader.fieldnames or [])})"))
        values = {k.strip(): v.strip() for k, v in record.items() if k is not None and v is not None and v.strip()}
        if values:
            rows.append(Row(kind, path, start, values))
        start = reader.line_num + 1  # a quoted cell may span lines; the next record starts after it
    return rows, problems


def _plain(value: Any) -> Any:
    """ruamel's commented containers -> plain lists and dicts."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
