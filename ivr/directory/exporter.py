"""`hausruf export DIR`: the directory written back as the YAML files `hausruf import` reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ivr.db.models import House, Partner, Region, Tenant, Volunteer
from ivr.directory.extra import all_kinds, extra_kinds
from ivr.directory.fields import ALL_REGIONS
from ivr.directory.records import COLUMNS, SCHEMAS
from ivr.flows.model import SERVICE_KINDS

# Optional fields left out when empty, so exported files stay as short as hand-written ones.
OMIT_WHEN_EMPTY = {"address", "notes", "whisper", "quiet_hours", "chat_room", "matrix", "house_chat"}


def export_directory(session: Session, path: str | Path) -> dict[str, Path]:
    """Write regions.yaml ... partners.yaml into path (created if needed); returns the files by kind."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    yaml = YAML()
    yaml.indent(mapping=2, sequence=2, offset=0)
    yaml.width = 120
    written = {}
    for kind, rows in directory_rows(session).items():
        omit = extra_kinds()[kind].omit_when_empty if kind in extra_kinds() else OMIT_WHEN_EMPTY
        if kind in extra_kinds() and not rows:
            continue  # a cooperative without housing projects gets no empty projects.yaml
        data = CommentedSeq([_mapping(row, omit) for row in rows])
        data.yaml_set_start_comment(f"Hausruf directory: {kind} (see `hausruf import --help` for the fields)")
        target = folder / f"{kind}.yaml"
        with target.open("w", encoding="utf-8") as out:
            yaml.dump(data, out)
        written[kind] = target
    return written


def _mapping(row: dict[str, Any], omit: frozenset[str] | set[str] = OMIT_WHEN_EMPTY) -> dict[str, Any]:
    """Empty optional fields left out; short lists on one line, as people write them."""
    result: dict[str, Any] = {}
    for key, value in row.items():
        if key in omit and (value == "" or value is False):
            continue
        if isinstance(value, list):
            value = CommentedSeq(value)
            value.fa.set_flow_style()
        result[key] = value
    return result


def directory_rows(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every directory record as a plain mapping with the import's field names, in a stable order."""
    all_regions = set(session.scalars(select(Region.id)))
    regions = session.scalars(select(Region).order_by(Region.id))
    houses = session.scalars(select(House).order_by(House.id))
    tenants = session.scalars(
        select(Tenant)
        .options(selectinload(Tenant.phones))
        .order_by(Tenant.house_id, Tenant.last_name, Tenant.first_name, Tenant.id)
    )
    volunteers = session.scalars(select(Volunteer).order_by(Volunteer.house_id, Volunteer.name, Volunteer.id))
    partners = sorted(
        session.scalars(select(Partner).options(selectinload(Partner.regions))),
        key=lambda p: (SERVICE_KINDS.index(p.service_kind) if p.service_kind in SERVICE_KINDS else 99, p.id),
    )
    rows = {
        "regions": [_plain("regions", r, id=r.id) for r in regions],
        "houses": [_plain("houses", h, id=h.id) for h in houses],
        "tenants": [_plain("tenants", t, phones=[p.number for p in t.phones]) for t in tenants],
        "volunteers": [_plain("volunteers", v, phone=v.phone) for v in volunteers],
        "partners": [_plain("partners", p, id=p.id, regions=_served(p, all_regions)) for p in partners],
    }
    rows.update((name, kind.rows(session)) for name, kind in extra_kinds().items())
    return {kind: rows[kind] for kind in all_kinds()}


def _plain(kind: str, obj: Any, **special: Any) -> dict[str, Any]:
    """One record under the import's field names, in the order of its schema."""
    values = {name: getattr(obj, column) for name, column in COLUMNS[kind].items()} | special
    return {name: values[name] for name in SCHEMAS[kind]}


def _served(partner: Partner, all_regions: set[str]) -> str | list[str]:
    ids = sorted(r.id for r in partner.regions)
    return ALL_REGIONS if all_regions and set(ids) == all_regions else ids
