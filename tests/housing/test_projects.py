"""Housing projects in the directory: the same import (file:line problems, all or nothing) and export."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ivr.directory.exporter import export_directory
from ivr.directory.importer import DirectoryError, import_directory
from ivr.housing.directory import active_projects
from ivr.housing.models import HousingProject
from tests.conftest import DEMO_DIR


def demo_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "directory"
    shutil.copytree(DEMO_DIR, folder)
    return folder


def test_demo_projects_are_many_towns_kinds_and_features(demo):
    with demo() as session:
        projects = active_projects(session)
    assert len(projects) >= 8
    assert len({p.town for p in projects}) >= 5 and len({p.region for p in projects}) == 3
    assert {k for p in projects for k in p.kinds} == {"multi_generation", "seniors", "shared_flat", "cooperative"}
    assert {f for p in projects for f in p.features} == {"step_free", "lift", "care", "garden", "pets", "shared_rooms"}
    assert all(p.contact_phone.startswith("+4930231254") for p in projects)


def test_bad_project_rows_name_file_and_line_and_nothing_is_imported(sqlite_sessions, tmp_path):
    sessions = sqlite_sessions
    folder = demo_copy(tmp_path)
    (folder / "projects.yaml").unlink()
    (folder / "projects.csv").write_text(textwrap.dedent("""\
        id;name;town;region;contact_phone;kinds;features;rent_band;flats_free;waiting_list;phone_text;sms_text
        hof;Hof;Siegen;siegen;0271 123456;seniors;step_free|garden;low;1;ja;Ein Hof.;Hof in Siegen.
        wg;WG;Bonn;bonn;0271 123457;wohngemeinschaft;sauna;cheap;zwei;ja;Eine WG.;WG in Bonn.
        """), encoding="utf-8")
    with sessions() as session, pytest.raises(DirectoryError) as info:
        import_directory(session, folder)
    path = str(folder / "projects.csv")
    assert sorted(str(p) for p in info.value.problems) == [
        f"{path}:3: field 'features': unknown feature 'sauna'; expected some of: "
        "step_free, lift, care, garden, pets, shared_rooms",
        f"{path}:3: field 'flats_free': 'zwei' is not a number of flats; write 0, 1, 2 ...",
        f"{path}:3: field 'kinds': unknown kind of living 'wohngemeinschaft'; expected some of: "
        "multi_generation, seniors, shared_flat, cooperative",
        f"{path}:3: field 'rent_band': unknown rent band 'cheap'; expected one of: low, medium, high",
    ]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(HousingProject)) == 0


def test_unknown_region_and_duplicate_id_are_problems(sqlite_sessions, tmp_path):
    sessions = sqlite_sessions
    folder = demo_copy(tmp_path)
    text = (folder / "projects.yaml").read_text(encoding="utf-8")
    text = text.replace("region: netphen", "region: bonn", 1).replace("id: talblick-hof", "id: pfarrhaus-weidenau")
    (folder / "projects.yaml").write_text(text, encoding="utf-8")
    with sessions() as session, pytest.raises(DirectoryError) as info:
        import_directory(session, folder)
    messages = [p.message for p in info.value.problems]
    assert "id 'pfarrhaus-weidenau' is already used at " + str(folder / "projects.yaml") + ":33" in messages
    assert "unknown region 'bonn'; known regions: kreuztal, netphen, siegen" in messages


def test_export_writes_projects_that_import_back_unchanged(demo, tmp_path):
    with demo() as session:
        written = export_directory(session, tmp_path / "out")
    assert written["projects"].name == "projects.yaml"
    with demo.begin() as session:
        report = import_directory(session, tmp_path / "out")
    assert report.unchanged["projects"] == 8 and report.updated["projects"] == 0
