"""The directory's Matrix fields: a helper's Matrix ID, a house's chat room, a tenant's opt-in."""

from __future__ import annotations

import textwrap

import pytest
from sqlalchemy import select

from ivr.db.models import House, Tenant, Volunteer
from ivr.directory.exporter import export_directory
from ivr.directory.importer import DirectoryError, import_directory
from tests.conftest import DEMO_DIR


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_the_demo_has_matrix_ids_a_chat_room_and_an_opted_in_tenant(sessions):
    with sessions.begin() as session:
        import_directory(session, DEMO_DIR)
    with sessions() as session:
        jonas = session.scalar(select(Volunteer).where(Volunteer.name == "Jonas Brandt"))
        assert jonas.matrix == "@jonas:talblick.example"
        assert session.get(House, "lindenhof").chat_room == "#lindenhof:talblick.example"
        # Mrs Collins hears her house chat by phone (flows/hotline.en.yaml: "Computer and house chat: 5").
        collins = session.scalar(select(Tenant).where(Tenant.last_name == "Collins"))
        assert collins.house_chat is True
        assert session.scalar(select(Tenant).where(Tenant.last_name == "Vogel")).house_chat is False


def test_export_writes_the_fields_only_where_set_and_imports_them_back(sessions, tmp_path):
    with sessions.begin() as session:
        import_directory(session, DEMO_DIR)
    with sessions() as session:
        export_directory(session, tmp_path / "out")
    volunteers = (tmp_path / "out" / "volunteers.yaml").read_text()
    assert volunteers.count("matrix:") == 1 and "  matrix: '@jonas:talblick.example'\n" in volunteers
    houses = (tmp_path / "out" / "houses.yaml").read_text()
    assert houses.count("chat_room:") == 1 and "  chat_room: '#lindenhof:talblick.example'\n" in houses
    assert (tmp_path / "out" / "tenants.yaml").read_text().count("house_chat: true") == 1
    with sessions.begin() as session:
        report = import_directory(session, tmp_path / "out")
    assert sum(report.created.values()) == sum(report.updated.values()) == 0


def test_bad_matrix_values_are_reported_with_file_and_line(sessions, tmp_path):
    write(tmp_path, "regions.yaml", "- {id: siegen, name: Siegen}\n")
    houses = write(tmp_path, "houses.yaml", """\
        - id: eins
          name: Eins
          region: siegen
          chat_room: lindenhof
        """)
    volunteers = write(tmp_path, "volunteers.csv",
                       "name,phone,house,matrix\nJonas,0151 23456789,eins,jonas@talblick.example\n")
    tenants = write(tmp_path, "tenants.yaml", """\
        - last_name: Becker
          house: eins
          phones: ["0271 123456"]
          house_chat: vielleicht
        """)
    with sessions() as session, pytest.raises(DirectoryError) as info:
        import_directory(session, tmp_path)
    assert str(info.value).splitlines() == [
        f"{houses}:1: field 'chat_room': 'lindenhof' is not a Matrix room; write an alias like "
        "'#lindenhof:talblick.example' or a room id like '!abc123:talblick.example'",
        f"{tenants}:1: field 'house_chat': 'vielleicht' is not yes or no; expected true or false",
        f"{volunteers}:2: field 'matrix': 'jonas@talblick.example' is not a Matrix user ID; write it like "
        "'@jonas:talblick.example' (lower case name, then ':' and the server)",
    ]
