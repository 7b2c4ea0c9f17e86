"""A hook for directory kinds kept by other packages (housing projects): their files go through the same
reading, validation (file:line problems), all-or-nothing import and export as regions ... partners.

A provider module named in PROVIDERS has a DIRECTORY_KIND (an ExtraKind); kinds are imported after
the built-in ones, so they may refer to regions and houses.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from ivr.flows.problems import Problem

PROVIDERS = ("ivr.housing.directory",)


@dataclass(frozen=True)
class ExtraKind:
    """One more kind of directory file: its fields, natural key, and how to write and read it back."""

    name: str
    schema: dict[str, tuple[Callable[[Any], Any], Any]]  # field -> (parser, default or records.REQUIRED)
    natural_key: str
    write: Callable  # (session, Record) -> "created" | "updated" | "unchanged"
    rows: Callable  # (session) -> list of mappings under the file's field names, for the export
    references: Callable = lambda records, known: []  # (records of this kind, known ids) -> problems
    omit_when_empty: frozenset[str] = field(default_factory=frozenset)


@lru_cache(maxsize=1)
def extra_kinds() -> dict[str, ExtraKind]:
    """The extra kinds by name, in the order of PROVIDERS."""
    kinds = (importlib.import_module(name).DIRECTORY_KIND for name in PROVIDERS)
    return {kind.name: kind for kind in kinds}


def all_kinds() -> tuple[str, ...]:
    """Every kind of directory file, in import order."""
    from ivr.directory.sources import KINDS

    return KINDS + tuple(extra_kinds())


def reference_problems(records: list, known: dict[str, set[str]]) -> list[Problem]:
    """Each extra kind checks what its records refer to."""
    problems: list[Problem] = []
    for name, kind in extra_kinds().items():
        problems += kind.references([r for r in records if r.kind == name], known)
    return problems
