"""`hausruf report housing`: anonymous counters per calendar month, small counts hidden with their complements."""

from __future__ import annotations

from datetime import datetime, timezone

import click
from click.testing import CliRunner
from sqlalchemy import func, select

from ivr.housing import commands
from ivr.housing.models import HousingDemand
from ivr.housing.ranking import Seeker
from ivr.housing.report import count_demand, demand_tables, report_lines

MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
APRIL = datetime(2026, 4, 2, 9, 0, tzinfo=timezone.utc)


def callers(session, n: int, seeker: Seeker, matched: bool, when=MARCH) -> None:
    for _ in range(n):
        count_demand(session, when, seeker, matched)


def test_counters_hold_no_person_and_no_time_finer_than_the_month(sessions):
    with sessions.begin() as session:
        callers(session, 3, Seeker(region="siegen", needs=frozenset({"care", "step_free"}), budget="low"), True)
    with sessions() as session:
        columns = {c.name for c in HousingDemand.__table__.columns}
        assert columns == {"id", "month", "dimension", "value", "outcome", "count"}
        rows = {(r.dimension, r.value, r.outcome): r.count for r in session.scalars(select(HousingDemand))}
    assert rows == {("callers", "all", "match"): 3, ("region", "siegen", "match"): 3, ("kind", "any", "match"): 3,
                    ("budget", "low", "match"): 3, ("need", "care", "match"): 3, ("need", "step_free", "match"): 3}


def test_report_hides_small_counts_and_enough_others(sqlite_sessions):
    sessions = sqlite_sessions
    with sessions.begin() as session:
        callers(session, 12, Seeker(region="siegen", kind="seniors"), True)
        callers(session, 3, Seeker(region="siegen", kind="seniors"), False)
        callers(session, 9, Seeker(region="kreuztal", kind="multi_generation"), True)
        callers(session, 8, Seeker(region="kreuztal", kind="multi_generation"), False)
        callers(session, 2, Seeker(region="netphen", kind="seniors"), True, when=APRIL)  # another month
    with sessions() as session:
        region = demand_tables(session, "2026-03")[0]
        lines = report_lines(session, "2026-03", {"siegen": "Siegen", "kreuztal": "Kreuztal"})
    assert region.rows == ("kreuztal", "siegen")
    assert region.shown("siegen", "no_match") is None  # 3: under 5
    assert len(region.hidden) >= 4  # and a rectangle more, so that 15 - 12 does not give it away
    assert region.shown("total", "total") == 32
    assert "  Siegen" in "\n".join(lines) and "netphen" not in "\n".join(lines)
    assert lines[0].startswith("Housing line: demand in 2026-03")


def test_cli_prints_the_month_and_refuses_a_free_period(tmp_path, monkeypatch, sqlite_sessions):
    sessions = sqlite_sessions
    url = sessions.kw["bind"].url.render_as_string(hide_password=False)
    monkeypatch.setenv("HAUSRUF_DATABASE_URL", url)
    with sessions.begin() as session:
        callers(session, 6, Seeker(region="siegen"), True)
    runner = CliRunner()
    result = runner.invoke(commands.report_group, ["housing", "--month", "2026-03"])
    assert result.exit_code == 0, result.output
    assert "  siegen" in result.output and "6" in result.output
    bad = runner.invoke(commands.report_group, ["housing", "--month", "2026-03-01..2026-03-15"])
    assert bad.exit_code == 2
    assert "month '2026-03-01..2026-03-15' is not a calendar month; write it like 2026-03" in bad.output
