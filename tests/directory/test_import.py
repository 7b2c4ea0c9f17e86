"""Directory import and export on a real database: all or nothing, idempotent, exact problem messages, round trip."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from ivr.db.models import House, Partner, Region, Tenant, TenantPhone, Volunteer
from ivr.directory import commands
from ivr.directory.exporter import export_directory
from ivr.directory.importer import DirectoryError, import_directory
from tests.conftest import DEMO_DIR

MODELS = (Region, House, Tenant, TenantPhone, Volunteer, Partner)


def counts(sessions) -> dict[str, int]:
    with sessions() as session:
        return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in MODELS}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def demo_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "directory"
    shutil.copytree(DEMO_DIR, folder)
    return folder


def test_demo_twice_gives_the_same_row_counts(sessions):
    with sessions.begin() as session:
        first = import_directory(session, DEMO_DIR)
    after_first = counts(sessions)
    with sessions.begin() as session:
        second = import_directory(session, DEMO_DIR)
    assert counts(sessions) == after_first
    assert after_first == {
        "regions": 3, "houses": 5, "tenants": 13, "tenant_phones": 15, "volunteers": 10, "partners": 6,
    }
    assert sum(first.created.values()) == 45 and sum(second.created.values()) == 0  # 8 housing projects
    assert sum(second.unchanged.values()) == 45 and sum(second.updated.values()) == 0


def test_demo_has_what_the_issue_asks_for(demo):
    with demo() as session:
        houses = session.scalars(select(House)).all()
        assert len(houses) >= 4 and len({h.region_id for h in houses}) >= 3
        for house in houses:
            assert len([v for v in house.volunteers if v.active]) == 2, house.id
        kinds = {p.service_kind for p in session.scalars(select(Partner))}
        assert kinds == {"groceries", "meals", "home_emergency", "home_care", "day_care"}
        languages = [t.language for t in session.scalars(select(Tenant))]
        assert len(languages) >= 12 and {"en", "tr"} <= set(languages)


def test_csv_with_a_bad_phone_number_names_file_and_line_and_imports_nothing(sessions, tmp_path):
    folder = demo_copy(tmp_path)
    (folder / "tenants.yaml").unlink()
    csv_path = write(
        folder,
        "tenants.csv",
        """
        first_name;last_name;salutation;language;house;phones
        Erika;Becker;Frau Becker;de;lindenhof;0271 123456
        Heinrich;Vogel;Herr Vogel;de;lindenhof;0271 12
        Ayşe;Yılmaz;Frau Yılmaz;tr;sonnenblick;+49 30 23125306 | 0151 23456789
        """,
    )
    with sessions() as session, pytest.raises(DirectoryError) as info:
        import_directory(session, folder)
    assert str(info.value) == (
        f"{csv_path}:3: field 'phones': '0271 12' is not a valid phone number; "
        "write it like '0271 123456' or '+49 271 123456'"
    )
    assert set(counts(sessions).values()) == {0}


def test_every_bad_row_is_reported_sorted_and_nothing_is_written(sessions, tmp_path):
    folder = demo_copy(tmp_path)
    (folder / "tenants.yaml").unlink()
    write(
        folder,
        "houses.yaml",
        """
        - id: lindenhof
          name: Lindenhof
          region: siegen
        - id: Haus 2
          name: Zwei
          region: atlantis
        """,
    )
    partners = write(
        folder,
        "partners.yaml",
        """
        - id: frischekorb
          name: Frischekorb
          service: grocery
          phone: "+49 30 23125101"
          regions: all
          opening_hours: Mo-Fr 8-18
        - id: tischlein
          name: Tischlein
          service: meals
          phone: 03023125102
          regions: [siegen, mars]
          colour: red
        """,
    )
    volunteers = write(
        folder,
        "volunteers.yaml",
        """
        - name: Jonas Brandt
          phone: "+49 30 23125201"
          house: lindenhof
        - name: Jonas Doppelt
          phone: "030 23125201"
          house: nowhere
        - name: Petra Wolf
          phone: "+49 30 23125202"
          house: lindenhof
          language: deutsch
          quiet_hours: nachts
        """,
    )
    with sessions() as session, pytest.raises(DirectoryError) as info:
        import_directory(session, folder)
    houses = folder / "houses.yaml"
    assert str(info.value).splitlines() == [
        f"{houses}:4: field 'id': 'Haus 2' is not an id; use lower case letters, digits, '-' and '_', like 'haus-am-hang'",
        f"{partners}:1: field 'opening_hours': rule 'Mo-Fr 8-18': bad time '8'; expected HH:MM between 00:00 and 24:00",
        f"{partners}:1: field 'service': unknown service kind 'grocery'; expected one of: groceries, meals, home_emergency, home_care, day_care",
        f"{partners}:7: field 'phone': phone number 3023125102 was read as a number; put it in quotes, like \"+49 30 1234567\"",
        f"{partners}:7: unknown field 'colour' in partners; expected one of: id, name, service, phone, regions, opening_hours, whisper, active",
        f"{volunteers}:4: phone '+493023125201' is already used at {volunteers}:1",
        f"{volunteers}:4: unknown house 'nowhere'; known houses: lindenhof",
        f"{volunteers}:7: field 'language': unknown language 'deutsch'; expected one of: ar, bg, bs, cs, da, de, el, en, es, fa, fi, fr, hr, hu, it, ko, ku, lt, lv, nl, no, pl, pt, ro, ru, sk, sl, sq, sr, sv, tr, uk, vi, zh",
        f"{volunteers}:7: field 'quiet_hours': quiet hours 'nachts' are not HH:MM-HH:MM; write them like '22:00-08:00'",
    ]
    assert set(counts(sessions).values()) == {0}


def test_unknown_references_are_reported(sessions, tmp_path):
    folder = tmp_path / "refs"
    folder.mkdir()
    write(folder, "regions.yaml", "- {id: siegen, name: Siegen}\n")
    houses = write(folder, "houses.yaml", "- {id: eins, name: Eins, region: kreuztal}\n")
    tenants = write(folder, "tenants.csv", "last_name,house,phones\nBecker,zwei,0271 123456\n")
    partners = write(
        folder, "partners.yaml", "- {id: p, name: P, service: meals, phone: '0271 654321', regions: [siegen, mars]}\n"
    )
    with sessions() as session, pytest.raises(DirectoryError) as info:
        import_directory(session, folder)
    assert str(info.value).splitlines() == [
        f"{houses}:1: unknown region 'kreuztal'; known regions: siegen",
        f"{partners}:1: unknown region 'mars'; known regions: siegen",
        f"{tenants}:2: unknown house 'zwei'; known houses: eins",
    ]


def test_references_may_point_into_the_database(demo, tmp_path):
    folder = tmp_path / "more"
    folder.mkdir()
    write(folder, "tenants.yaml", "- {last_name: Neu, house: lindenhof, phones: ['0271 123456']}\n")
    with demo.begin() as session:
        report = import_directory(session, folder)
    assert report.created["tenants"] == 1
    with demo() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.last_name == "Neu")).one()
        assert (tenant.salutation, tenant.language, tenant.house_id) == ("Neu", "de", "lindenhof")


def test_reimport_updates_by_natural_key(demo, tmp_path):
    folder = tmp_path / "changes"
    folder.mkdir()
    write(
        folder,
        "tenants.yaml",
        """
        - first_name: Erika
          last_name: Becker-Lang
          salutation: Frau Becker-Lang
          house: lindenhof
          phones: ["0049 30 23125321", "+49 30 23125399"]
        """,
    )
    write(
        folder,
        "partners.yaml",
        """
        - id: tischlein
          name: Tischlein Menüdienst
          service: meals
          phone: "+49 30 23125102"
          regions: all
          opening_hours: Mo-Fr 07:30-12:00; PH off
        """,
    )
    before = counts(demo)
    with demo.begin() as session:
        report = import_directory(session, folder)
    assert (report.updated["tenants"], report.updated["partners"]) == (1, 1)
    with demo() as session:
        phone = session.scalars(select(TenantPhone).where(TenantPhone.number == "+493023125399")).one()
        assert phone.tenant.salutation == "Frau Becker-Lang"
        assert [p.number for p in phone.tenant.phones] == ["+493023125321", "+493023125399"]
        assert {r.id for r in session.get(Partner, "tischlein").regions} == {"siegen", "kreuztal", "netphen"}
    assert counts(demo) == before  # one number swapped for another, nothing duplicated


def test_export_then_import_is_a_round_trip(demo, sessions, tmp_path, database_url):
    with demo() as session:
        export_directory(session, tmp_path / "first")
    # Import the export into the same database (nothing changes) and compare a second export.
    with demo.begin() as session:
        report = import_directory(session, tmp_path / "first")
    assert sum(report.created.values()) == sum(report.updated.values()) == 0
    with demo() as session:
        export_directory(session, tmp_path / "second")
    for name in ("regions.yaml", "houses.yaml", "tenants.yaml", "volunteers.yaml", "partners.yaml"):
        assert (tmp_path / "first" / name).read_text() == (tmp_path / "second" / name).read_text()
    text = (tmp_path / "first" / "partners.yaml").read_text()
    assert "  regions: all\n" in text and "  regions: [kreuztal, siegen]\n" in text


def test_cli_import_export_and_listing(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("HAUSRUF_DATABASE_URL", database_url)
    main = click.Group("hausruf")
    commands.register(main)
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(DEMO_DIR)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2] == "tenants: 13 new, 0 updated, 0 unchanged (tenants.yaml)"
    again = runner.invoke(main, ["import", str(DEMO_DIR)])
    assert again.output.splitlines()[2] == "tenants: 0 new, 0 updated, 13 unchanged (tenants.yaml)"
    listing = runner.invoke(main, ["directory"]).output.splitlines()
    assert listing[0] == "3 regions, 5 houses, 13 tenants, 10 volunteers, 6 partners"
    assert listing[2] == "Netphen (netphen): Mühlenweg; services: groceries, home_care, home_emergency"
    exported = runner.invoke(main, ["export", str(tmp_path / "out")])
    assert exported.exit_code == 0 and (tmp_path / "out" / "tenants.yaml").is_file()


def test_cli_import_reports_problems_on_stderr_and_exits_1(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("HAUSRUF_DATABASE_URL", database_url)
    folder = tmp_path / "bad"
    folder.mkdir()
    regions = write(folder, "regions.yaml", "- {id: siegen}\n")
    main = click.Group("hausruf")
    commands.register(main)
    result = CliRunner().invoke(main, ["import", str(folder)])
    assert result.exit_code == 1
    assert result.stderr == f"{regions}:1: field 'name' is missing\n"
