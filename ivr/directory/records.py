"""The inner layer of the import: rows -> validated records, every problem collected with its file and line.

Field names per kind (the same names are written by the export):

    regions:    id, name
    houses:     id, name, address, region, chat_room (Matrix alias or room id)
    tenants:    first_name, last_name, salutation, language, house, phones, notes, house_chat (opt-in)
    volunteers: name, phone, house, role, active, quiet_hours, language, matrix (Matrix user ID)
    partners:   id, name, service, phone, regions (ids or 'all'), opening_hours, whisper, active
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ivr.directory import fields as f
from ivr.directory.extra import extra_kinds
from ivr.directory.extra import reference_problems as extra_reference_problems
from ivr.directory.sources import Row
from ivr.flows.problems import Problem

Parser = Callable[[Any], Any]
REQUIRED = object()  # marks a field without default

SCHEMAS: dict[str, dict[str, tuple[Parser, Any]]] = {
    "regions": {"id": (f.slug, REQUIRED), "name": (f.text, REQUIRED)},
    "houses": {
        "id": (f.slug, REQUIRED),
        "name": (f.text, REQUIRED),
        "address": (f.text, ""),
        "region": (f.slug, REQUIRED),
        "chat_room": (f.matrix_room, ""),
    },
    "tenants": {
        "first_name": (f.text, ""),
        "last_name": (f.text, REQUIRED),
        "salutation": (f.text, ""),
        "language": (f.language, "de"),
        "house": (f.slug, REQUIRED),
        "phones": (f.phones, REQUIRED),
        "notes": (f.text, ""),
        "house_chat": (f.flag, False),
    },
    "volunteers": {
        "name": (f.text, REQUIRED),
        "phone": (f.phone, REQUIRED),
        "house": (f.slug, REQUIRED),
        "role": (f.text, "it_helper"),
        "active": (f.flag, True),
        "quiet_hours": (f.quiet_hours, ""),
        "language": (f.language, "de"),
        "matrix": (f.matrix_user, ""),
    },
    "partners": {
        "id": (f.slug, REQUIRED),
        "name": (f.text, REQUIRED),
        "service": (f.service_kind, REQUIRED),
        "phone": (f.phone, REQUIRED),
        "regions": (f.regions, REQUIRED),
        "opening_hours": (f.opening_hours, "24/7"),
        "whisper": (f.text, ""),
        "active": (f.flag, True),
    },
}

# Where each plain field of a file lives on the model (the natural key, phones and regions are handled apart).
COLUMNS: dict[str, dict[str, str]] = {
    "regions": {"name": "name"},
    "houses": {"name": "name", "address": "address", "region": "region_id", "chat_room": "chat_room"},
    "tenants": {
        "first_name": "first_name",
        "last_name": "last_name",
        "salutation": "salutation",
        "language": "language",
        "house": "house_id",
        "notes": "notes",
        "house_chat": "house_chat",
    },
    "volunteers": {
        "name": "name",
        "house": "house_id",
        "role": "role",
        "active": "active",
        "quiet_hours": "quiet_hours",
        "language": "language",
        "matrix": "matrix",
    },
    "partners": {
        "name": "name",
        "service": "service_kind",
        "phone": "phone",
        "opening_hours": "opening_hours",
        "whisper": "whisper",
        "active": "active",
    },
}

# The field that identifies a record across imports; tenants are found by any of their numbers.
NATURAL_KEYS = {"regions": "id", "houses": "id", "tenants": "phones", "volunteers": "phone", "partners": "id"}


@dataclass(frozen=True)
class Record:
    """A validated row: clean values for every field of its kind."""

    kind: str
    path: str
    line: int
    values: dict[str, Any] = field(hash=False)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def columns(self) -> dict[str, Any]:
        """The plain fields under their model attribute names (see COLUMNS)."""
        return {column: self.values[name] for name, column in COLUMNS[self.kind].items()}

    def problem(self, message: str) -> Problem:
        """A problem at this record's place."""
        return Problem(self.path, self.line, message)


def validate_row(row: Row) -> tuple[Record | None, list[Problem]]:
    """Parse every field of one row; unknown fields and missing required ones are problems too."""
    schema = schema_of(row.kind)
    problems = [
        Problem(row.path, row.line, f"unknown field '{name}' in {row.kind}; expected one of: {', '.join(schema)}")
        for name in row.values
        if name not in schema
    ]
    values: dict[str, Any] = {}
    for name, (parse, default) in schema.items():
        raw = row.values.get(name)
        if raw is None or raw == "":
            if default is REQUIRED:
                problems.append(Problem(row.path, row.line, f"field '{name}' is missing"))
            else:
                values[name] = default
            continue
        try:
            values[name] = parse(raw)
        except ValueError as exc:
            problems.append(Problem(row.path, row.line, f"field '{name}': {exc}"))
    if problems:
        return None, problems
    if row.kind == "tenants" and not values["salutation"]:
        values["salutation"] = " ".join(p for p in (values["first_name"], values["last_name"]) if p)
    return Record(row.kind, row.path, row.line, values), []


def duplicate_problems(records: list[Record]) -> list[Problem]:
    """The same natural key twice among the imported rows (a tenant's number counts for all tenants)."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str], Record] = {}
    for record in records:
        key_field = NATURAL_KEYS.get(record.kind) or extra_kinds()[record.kind].natural_key
        keys = record[key_field] if isinstance(record[key_field], tuple) else (record[key_field],)
        for key in keys:
            first = seen.setdefault((record.kind, key), record)
            if first is not record:
                problems.append(
                    record.problem(f"{key_field} '{key}' is already used at {first.path}:{first.line}")
                )
    return problems


def reference_problems(records: list[Record], known: dict[str, set[str]]) -> list[Problem]:
    """Houses and regions named by rows must exist, in the files or already in the database."""
    problems: list[Problem] = []
    for record in records:
        if record.kind == "houses" and record["region"] not in known["regions"]:
            problems.append(record.problem(unknown("region", record["region"], known["regions"])))
        if record.kind in ("tenants", "volunteers") and record["house"] not in known["houses"]:
            problems.append(record.problem(unknown("house", record["house"], known["houses"])))
        if record.kind == "partners":
            for region in record["regions"]:
                if region != f.ALL_REGIONS and region not in known["regions"]:
                    problems.append(record.problem(unknown("region", region, known["regions"])))
    return problems + extra_reference_problems(records, known)


def schema_of(kind: str) -> dict[str, tuple[Parser, Any]]:
    """The fields of a built-in or an extra kind (ivr.directory.extra)."""
    return SCHEMAS.get(kind) or extra_kinds()[kind].schema


def unknown(what: str, value: str, known: set[str]) -> str:
    listed = ", ".join(sorted(known)) or "(none yet)"
    return f"unknown {what} '{value}'; known {what}s: {listed}"
