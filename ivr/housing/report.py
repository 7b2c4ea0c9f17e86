"""Anonymous demand of the housing line: counters per calendar month, and the suppressed monthly report.

Months are fixed periods (never a free date range), so two reports cannot be subtracted to single
out one caller.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.housing.models import HousingDemand
from ivr.housing.ranking import Seeker
from ivr.housing.suppression import COLUMNS, TOTAL, Table, suppress
from ivr.housing.vocabulary import ANY, FEATURES, LIVING_KINDS, RENT_BANDS

DIMENSIONS = ("region", "kind", "budget", "need")
NO_NEED = "none"
HIDDEN = "x"
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
LABELS = {"match": "match", "no_match": "no match", TOTAL: "total"}


def demand_cells(seeker: Seeker) -> list[tuple[str, str]]:
    """The (dimension, value) counters one caller adds to: one per dimension, one per need."""
    cells = [("callers", "all"), ("region", seeker.region or ANY), ("kind", seeker.kind or ANY),
             ("budget", seeker.budget or ANY)]
    cells += [("need", need) for need in sorted(seeker.needs)] or [("need", NO_NEED)]
    return cells


def count_demand(session: Session, when: datetime, seeker: Seeker, matched: bool) -> None:
    """Add one caller to the month's counters (in the caller's transaction; no personal data)."""
    month = when.strftime("%Y-%m")
    outcome = "match" if matched else "no_match"
    for dimension, value in demand_cells(seeker):
        where = (HousingDemand.month == month, HousingDemand.dimension == dimension,
                 HousingDemand.value == value[:64], HousingDemand.outcome == outcome)
        if session.execute(update(HousingDemand).where(*where).values(count=HousingDemand.count + 1)).rowcount:
            continue
        try:
            with session.begin_nested():  # another call may have created the counter a moment ago
                session.add(HousingDemand(month=month, dimension=dimension, value=value[:64], outcome=outcome, count=1))
        except IntegrityError:
            session.execute(update(HousingDemand).where(*where).values(count=HousingDemand.count + 1))


def check_month(text: str) -> str:
    """'2026-03' as given; ValueError naming the form otherwise."""
    if not MONTH.match(text or ""):
        raise ValueError(f"month {text!r} is not a calendar month; write it like 2026-03")
    return text


def demand_tables(session: Session, month: str) -> list[Table]:
    """The month's counters as one table per dimension, suppressed."""
    counts: dict[str, dict[tuple[str, str], int]] = {d: {} for d in DIMENSIONS}
    for row in session.scalars(select(HousingDemand).where(HousingDemand.month == month)):
        if row.dimension in counts:
            counts[row.dimension][(row.value, row.outcome)] = row.count
    order = {"region": (), "kind": LIVING_KINDS + (ANY,), "budget": RENT_BANDS + (ANY,), "need": FEATURES + (NO_NEED,)}
    tables = []
    for dimension in DIMENSIONS:
        values = {value for value, _ in counts[dimension]}
        known = order[dimension]
        rows = tuple(v for v in known if v in values) + tuple(sorted(values - set(known)))
        tables.append(Table(dimension, rows, counts[dimension], shares_callers=dimension != "need"))
    return suppress(tables)


def report_lines(session: Session, month: str, region_names: dict[str, str] | None = None) -> list[str]:
    """The report as text: a table per dimension, hidden cells shown as x."""
    tables = demand_tables(session, check_month(month))
    names = {ANY: "any", **(region_names or {})}
    lines = [f"Housing line: demand in {month} (anonymous counts of callers; "
             f"{HIDDEN} = hidden: under 5, or would give a small count away)"]
    for table in tables:
        lines.append("")
        heading = {"need": "need (a caller may name several)"}.get(table.dimension, table.dimension)
        lines.append(f"{heading:<34}" + "".join(f"{LABELS[c]:>10}" for c in table.grid_columns))
        for row in table.grid_rows:
            label = names.get(row, row) if row != TOTAL else TOTAL
            cells = (table.shown(row, c) for c in table.grid_columns)
            lines.append(f"  {label:<32}" + "".join(f"{HIDDEN if v is None else v:>10}" for v in cells))
    return lines
