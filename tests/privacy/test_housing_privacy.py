"""The housing line's seekers (answers that may be health data) under access, erasure and retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from ivr.db import engine_of, get_session
from ivr.db.models import CallbackTask, SmsMessage
from ivr.housing.models import HousingDemand, HousingProject, HousingSeeker
from ivr.privacy.person import erase_person, export_person
from ivr.privacy.retention import purge_all
from tests.housing.test_line import HOUSING, MOBILE, answer_questions, line, make_app
from tests.privacy.test_person import _dump, _files_containing
from tests.twilio.conftest import WEDNESDAY_10

# The caller's number as stored (E.164) and as the SMS to the project's contact writes it. (The demo flow's
# comment shows an example call from "+49 151 23456789": a flow text, not a caller's data.)
NEEDLES = (b"15123456789", b"01512 3456789")
ANSWERS = b'"needs": "step_free"'  # a need as stored in the seeker's answers (and the call's state)
CONTACT = "+493023125401"  # Jutta Hoffmann, contact of the Mehrgenerationenhaus Am Wellersberg (demo)


def _count(app, model) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model))


def _seeker_calls(app) -> None:
    """Two consenting seekers' calls from MOBILE: one wants the details by SMS, one a call from the project."""
    details = line(app, HOUSING).call(MOBILE)
    answer_questions(details)
    details.press("2")  # details by SMS
    callback = line(app, HOUSING).call(MOBILE)
    answer_questions(callback)
    callback.press("3")  # a call from the project
    callback.press("1")  # may pass the answers on: the contact gets an SMS with them and the caller's number


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_export_shows_the_answers_and_erase_leaves_none(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    _seeker_calls(app)
    settings = app.config["HAUSRUF"]
    held = export_person(settings, "01512 3456789")
    assert [s["answers"]["needs"] for s in held["housing_seekers"]] == ["step_free", "step_free"]
    assert held["housing_seekers"][1]["share_consent"] is True and held["housing_seekers"][0]["call"]
    assert held["housing_seekers"][0]["matched_projects"][0] == "mehrgenerationen-siegen"
    assert len(held["calls"]) == 2 and len(held["tasks"]) == 1
    assert held["calls"][0]["answers"]["needs"] == ["step_free"]  # the call's own record of the answers
    assert {m["to"] for m in held["sms"]} == {MOBILE, CONTACT}  # the details, and the offer naming the caller
    contact = export_person(settings, CONTACT)["directory"]["housing_projects"]
    assert contact == [{"id": "mehrgenerationen-siegen", "name": "Mehrgenerationenhaus Am Wellersberg",
                        "contact_name": "Jutta Hoffmann", "contact_phone": CONTACT}]
    before = _dump(database_url)
    assert all(needle in before for needle in NEEDLES) and ANSWERS in before
    demand = _count(app, HousingDemand)

    engine_of(app).dispose()
    done = erase_person(settings, MOBILE)
    assert "housing seekers deleted: 2 (with their answers)" in done and "tasks deleted: 1" in done
    assert "SMS deleted: 2" in done and not any("3456789" in line for line in done)
    dump = _dump(database_url)
    assert not any(needle in dump for needle in NEEDLES) and ANSWERS not in dump
    assert _files_containing(tmp_path, *NEEDLES) == []
    assert (_count(app, HousingSeeker), _count(app, CallbackTask), _count(app, SmsMessage)) == (0, 0, 0)
    assert _count(app, HousingDemand) == demand > 0  # the anonymous monthly counts stay
    assert export_person(settings, MOBILE)["housing_seekers"] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_erasing_a_project_contact_blanks_it_and_keeps_the_project(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    settings = app.config["HAUSRUF"]
    engine_of(app).dispose()
    done = erase_person(settings, CONTACT)
    assert "housing project contacts blanked: 1 (the projects stay listed)" in done
    with app.app_context():
        project = get_session().get(HousingProject, "mehrgenerationen-siegen")
        assert (project.contact_name, project.contact_phone, project.active) == ("", "", True)
    assert b"23125401" not in _dump(database_url)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_seekers_go_with_the_retention_period_and_the_counts_stay(database_url, tmp_path, monkeypatch):
    app = make_app(database_url, tmp_path)
    _seeker_calls(app)
    settings = app.config["HAUSRUF"]
    engine_of(app).dispose()
    assert purge_all(settings, WEDNESDAY_10 + timedelta(days=89)).housing_seekers == 0
    dry = purge_all(settings, WEDNESDAY_10 + timedelta(days=91), dry_run=True)
    assert dry.housing_seekers == 2 and _count(app, HousingSeeker) == 2
    assert "housing seekers: 2" in str(dry)
    assert purge_all(settings, WEDNESDAY_10 + timedelta(days=91)).housing_seekers == 2
    assert _count(app, HousingSeeker) == 0 and _count(app, HousingDemand) > 0

    # `hausruf purge --dry-run` names them too (here nothing is old enough).
    from ivr.cli import main

    monkeypatch.setenv("HAUSRUF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HAUSRUF_DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["purge", "--dry-run"])
    assert result.exit_code == 0 and "housing seekers: 0" in result.output, result.output
