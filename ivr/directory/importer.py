"""`hausruf import DIR`: validate every row of every file first, then write them all in the caller's transaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.db.models import House, Partner, Region, Tenant, TenantPhone, Volunteer
from ivr.directory.extra import all_kinds, extra_kinds
from ivr.directory.fields import ALL_REGIONS
from ivr.directory.records import Record, duplicate_problems, reference_problems, validate_row
from ivr.directory.sources import find_files, read_rows
from ivr.flows.problems import FlowError, Problem


class DirectoryError(FlowError):
    """The directory files have problems; nothing was written. str() lists them as `path:line: message`."""


@dataclass
class ImportReport:
    """What an import did, per kind: how many records were created, updated or already up to date."""

    files: dict[str, Path] = field(default_factory=dict)
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        """One line per kind, for the CLI."""
        return [
            f"{kind}: {self.created[kind]} new, {self.updated[kind]} updated, {self.unchanged[kind]} unchanged"
            f" ({self.files[kind].name})"
            for kind in all_kinds()
            if kind in self.files
        ]


def import_directory(session: Session, path: str | Path) -> ImportReport:
    """Load the directory files in path into session; raise DirectoryError (writing nothing) on any problem.

    The caller commits: all rows go in one transaction, so a failure later on leaves nothing half-imported.
    """
    records, files = load_records(session, Path(path))
    report = ImportReport(files=files)
    writers = {"regions": _region, "houses": _house, "tenants": _tenant, "volunteers": _volunteer, "partners": _partner}
    writers.update((name, kind.write) for name, kind in extra_kinds().items())
    for index, record in enumerate(records):
        outcome = writers[record.kind](session, record)
        getattr(report, outcome)[record.kind] += 1
        if index + 1 == len(records) or records[index + 1].kind != record.kind:
            session.flush()  # later kinds look up what earlier kinds wrote
    return report


def load_records(session: Session, folder: Path) -> tuple[list[Record], dict[str, Path]]:
    """Every file read and every row validated, in import order; DirectoryError with all problems otherwise."""
    files, problems = find_files(folder)
    records: list[Record] = []
    for kind, file in files.items():
        rows, read_problems = read_rows(kind, file)
        problems += read_problems
        for row in rows:
            record, row_problems = validate_row(row)
            problems += row_problems
            if record:
                records.append(record)
    problems += duplicate_problems(records)
    problems += reference_problems(records, _known_ids(session, records))
    problems += _tenant_owner_problems(session, records)
    if problems:
        raise DirectoryError(problems)
    return records, files


def _known_ids(session: Session, records: list[Record]) -> dict[str, set[str]]:
    known = {
        "regions": set(session.scalars(select(Region.id))),
        "houses": set(session.scalars(select(House.id))),
    }
    for record in records:
        if record.kind in known:
            known[record.kind].add(record["id"])
    return known


def _tenant_owner_problems(session: Session, records: list[Record]) -> list[Problem]:
    """A row whose numbers belong to two different tenants in the database cannot say which one it updates."""
    problems = []
    for record in records:
        if record.kind == "tenants" and len(_owners(session, record["phones"])) > 1:
            problems.append(record.problem("these phone numbers belong to different tenants already; split the row"))
    return problems


def _owners(session: Session, numbers: tuple[str, ...]) -> list[Tenant]:
    return list(session.scalars(select(Tenant).join(TenantPhone).where(TenantPhone.number.in_(numbers)).distinct()))


CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def _apply(obj, values: dict) -> str:
    """Set the attributes that differ; UPDATED if any did, else UNCHANGED."""
    outcome = UNCHANGED
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            outcome = UPDATED
    return outcome


def _upsert(session: Session, existing, create, values: dict) -> str:
    """Add a new object made by create(**values), or update existing in place."""
    if existing is None:
        session.add(create(**values))
        return CREATED
    return _apply(existing, values)


def _region(session: Session, record: Record) -> str:
    return _upsert(session, session.get(Region, record["id"]), partial(Region, id=record["id"]), record.columns())


def _house(session: Session, record: Record) -> str:
    return _upsert(session, session.get(House, record["id"]), partial(House, id=record["id"]), record.columns())


def _volunteer(session: Session, record: Record) -> str:
    existing = session.scalars(select(Volunteer).where(Volunteer.phone == record["phone"])).one_or_none()
    return _upsert(session, existing, partial(Volunteer, phone=record["phone"]), record.columns())


def _tenant(session: Session, record: Record) -> str:
    owners = _owners(session, record["phones"])
    phones = [TenantPhone(number=n) for n in record["phones"]]
    outcome = _upsert(session, owners[0] if owners else None, partial(Tenant, phones=phones), record.columns())
    if outcome == CREATED:
        return outcome
    tenant = owners[0]
    if [p.number for p in tenant.phones] != list(record["phones"]):
        by_number = {p.number: p for p in tenant.phones}
        tenant.phones = [by_number.get(n) or TenantPhone(number=n) for n in record["phones"]]
        # Flush the removals before a later row may claim one of the freed numbers (unique constraint).
        session.flush()
        outcome = UPDATED
    return outcome


def _partner(session: Session, record: Record) -> str:
    if record["regions"] == (ALL_REGIONS,):
        regions = list(session.scalars(select(Region).order_by(Region.id)))
    else:
        regions = [session.get(Region, region_id) for region_id in sorted(record["regions"])]
    partner = session.get(Partner, record["id"])
    outcome = _upsert(session, partner, partial(Partner, id=record["id"], regions=regions), record.columns())
    if outcome != CREATED and {r.id for r in partner.regions} != {r.id for r in regions}:
        partner.regions = regions
        outcome = UPDATED
    return outcome
