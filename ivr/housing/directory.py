"""Housing projects as a directory file (projects.yaml or projects.csv), through ivr.directory's import and export.

Fields (the export writes the same):

    id, name, town, region (a region id), address, contact_name, contact_phone,
    kinds (of: multi_generation, seniors, shared_flat, cooperative),
    features (of: step_free, lift, care, garden, pets, shared_rooms),
    rent_band (low, medium, high), flats_free (a number), waiting_list (yes/no),
    phone_text (one or two sentences read out on the phone), sms_text (the details sent by SMS), active
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.directory import fields as f
from ivr.directory.extra import ExtraKind
from ivr.directory.records import REQUIRED, Record, unknown
from ivr.flows.problems import Problem
from ivr.housing.models import HousingProject
from ivr.housing.ranking import Project
from ivr.housing.vocabulary import FEATURES, LIVING_KINDS, RENT_BANDS

PHONE_TEXT_LIMIT = 300  # about 20 seconds of speech at a calm pace: one or two sentences
SMS_TEXT_LIMIT = 250  # with the name and the contact's number this still fits two SMS


def _choices(allowed: tuple[str, ...], what: str, at_least_one: bool):
    def parse(value: Any) -> tuple[str, ...]:
        found = f.items(value)
        bad = [v for v in found if v not in allowed]
        if bad:
            raise ValueError(f"unknown {what} {bad[0]!r}; expected some of: {', '.join(allowed)}")
        if at_least_one and not found:
            raise ValueError(f"at least one {what} is needed; expected some of: {', '.join(allowed)}")
        if len(set(found)) != len(found):
            raise ValueError(f"a {what} is listed twice")
        return tuple(found)

    return parse


def _rent_band(value: Any) -> str:
    result = f.text(value).lower()
    if result not in RENT_BANDS:
        raise ValueError(f"unknown rent band {result!r}; expected one of: {', '.join(RENT_BANDS)}")
    return result


def _count(value: Any) -> int:
    text = f.text(value)
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a number of flats; write 0, 1, 2 ...")
    return int(text)


def _spoken(limit: int):
    def parse(value: Any) -> str:
        result = " ".join(f.text(value).split())
        if not result:
            raise ValueError("is empty")
        if len(result) > limit:
            raise ValueError(f"is {len(result)} characters long; keep it to {limit} (one or two sentences)")
        return result

    return parse


SCHEMA: dict[str, tuple[Any, Any]] = {
    "id": (f.slug, REQUIRED),
    "name": (f.text, REQUIRED),
    "town": (f.text, REQUIRED),
    "region": (f.slug, REQUIRED),
    "address": (f.text, ""),
    "contact_name": (f.text, ""),
    "contact_phone": (f.phone, REQUIRED),
    "kinds": (_choices(LIVING_KINDS, "kind of living", True), REQUIRED),
    "features": (_choices(FEATURES, "feature", False), ()),
    "rent_band": (_rent_band, REQUIRED),
    "flats_free": (_count, 0),
    "waiting_list": (f.flag, False),
    "phone_text": (_spoken(PHONE_TEXT_LIMIT), REQUIRED),
    "sms_text": (_spoken(SMS_TEXT_LIMIT), REQUIRED),
    "active": (f.flag, True),
}
# File field -> model attribute, for the plain fields.
COLUMNS = {name: name for name in SCHEMA if name not in ("id", "region", "kinds", "features")} | {"region": "region_id"}


def _references(records: list[Record], known: dict[str, set[str]]) -> list[Problem]:
    return [r.problem(unknown("region", r["region"], known["regions"])) for r in records
            if r["region"] not in known["regions"]]


def _write(session: Session, record: Record) -> str:
    values = {column: record[name] for name, column in COLUMNS.items()}
    values |= {"kinds": list(record["kinds"]), "features": list(record["features"])}
    project = session.get(HousingProject, record["id"])
    if project is None:
        session.add(HousingProject(id=record["id"], **values))
        return "created"
    changed = [name for name, value in values.items() if getattr(project, name) != value]
    for name in changed:
        setattr(project, name, values[name])
    return "updated" if changed else "unchanged"


def _rows(session: Session) -> list[dict[str, Any]]:
    rows = []
    for project in session.scalars(select(HousingProject).order_by(HousingProject.region_id, HousingProject.id)):
        values = {name: getattr(project, column) for name, column in COLUMNS.items()}
        values |= {"id": project.id, "kinds": list(project.kinds), "features": list(project.features)}
        rows.append({name: values[name] for name in SCHEMA})
    return rows


DIRECTORY_KIND = ExtraKind(
    name="projects",
    schema=SCHEMA,
    natural_key="id",
    write=_write,
    rows=_rows,
    references=_references,
    omit_when_empty=frozenset({"address", "contact_name"}),
)


def as_project(p: HousingProject) -> Project:
    """A project row as the ranking (and the engine) sees it."""
    return Project(id=p.id, name=p.name, town=p.town, region=p.region_id, kinds=tuple(p.kinds),
                   features=tuple(p.features), rent_band=p.rent_band, flats_free=p.flats_free,
                   waiting_list=p.waiting_list, phone_text=p.phone_text, sms_text=p.sms_text,
                   contact_name=p.contact_name, contact_phone=p.contact_phone, address=p.address)


def active_projects(session: Session) -> tuple[Project, ...]:
    """Every active project, as the ranking sees them."""
    query = select(HousingProject).where(HousingProject.active.is_(True)).order_by(HousingProject.id)
    return tuple(as_project(p) for p in session.scalars(query))
