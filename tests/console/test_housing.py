"""/housing over HTTP: projects with free flats and waiting lists, the projects file up and down (all rows or
nothing, file:line messages), a project's requests, and the anonymous monthly report of what callers asked."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

from sqlalchemy import select

from ivr.db import engine_of, get_session
from ivr.housing.models import HousingProject
from tests.console.conftest import PUBLIC_URL, make_app, post
from tests.twilio.conftest import WEDNESDAY_10

HEADER = "id;name;town;region;contact_phone;kinds;rent_band;phone_text;sms_text\n"


def upload(client, name: str, text: str):
    from io import BytesIO

    return post(client, "/housing/upload", {"file": (BytesIO(text.encode()), name)}, form_path="/housing/upload",
                content_type="multipart/form-data")


def projects(app) -> dict[str, HousingProject]:
    with app.app_context():
        session = get_session()
        found = {p.id: p for p in session.scalars(select(HousingProject))}
        session.expunge_all()
        return found


def test_staff_see_every_project_with_free_flats_waiting_list_and_requests(staff_client, app):
    page = staff_client.get("/housing").get_data(as_text=True)
    demo = projects(app)
    assert len(demo) >= 8
    for project in demo.values():
        assert project.name in page
    assert "Mehrgenerationenhaus Am Wellersberg" in page and "Miete" in page
    flats = sum(p.flats_free for p in demo.values() if p.active)
    with_flats = sum(1 for p in demo.values() if p.active and p.flats_free)
    assert f"{flats} freie Wohnungen in {with_flats} Projekten" in page
    waiting = sum(1 for p in demo.values() if p.active and p.waiting_list)
    assert f"{waiting} Projekte mit offener Warteliste" in page
    assert "Keine offenen Rückrufwünsche" in page
    # The menu leads there, and a project's page shows what callers hear.
    assert 'href="/housing" aria-current="page"' in page
    one = staff_client.get("/housing/projects/senioren-wg-lindenhof").get_data(as_text=True)
    assert "Eine Wohngemeinschaft für sechs ältere Menschen" in one and "Peter Brandt" in one
    assert "Pflegedienst im Haus" in one and "bis 500 € im Monat" in one
    assert staff_client.get("/housing/projects/gibt-es-nicht").status_code == 404


def test_a_request_from_the_housing_line_shows_on_the_project_and_the_task(tmp_path, seed):
    from tests.console.conftest import login
    from tests.housing.test_line import answer_questions
    from tests.support.call_simulator import CallSimulator
    from tests.twilio.conftest import AUTH_TOKEN

    housing = "+4927150000002"
    app = make_app(tmp_path, seed, numbers={housing: "wohnen"})
    call = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=housing).call("+4915123456789")
    answer_questions(call)
    call.press("3")  # a call from the project
    call.press("1")  # the answers may be passed on
    client = app.test_client()
    login(client)
    page = client.get("/housing").get_data(as_text=True)
    assert "1 Rückrufwünsche noch nicht erledigt" in page
    one = client.get("/housing/projects/mehrgenerationen-siegen").get_data(as_text=True)
    number = re.search(r'href="/tasks/(\d+)">#\d+</a>', one).group(1)
    assert "angeboten" in one
    task = client.get(f"/tasks/{number}").get_data(as_text=True)
    assert 'Wohnprojekt <a href="/housing/projects/mehrgenerationen-siegen">Mehrgenerationenhaus Am Wellersberg' in task
    assert "Jutta Hoffmann" in task
    engine_of(app).dispose()


def test_an_upload_with_a_bad_row_names_file_and_line_and_changes_nothing(staff_client, app):
    before = projects(app)
    response = upload(staff_client, "projects.csv", HEADER
                      + "neu-1;Neues Haus;Siegen;siegen;0271 5551234;seniors;low;Hallo.;Hallo.\n"
                      + "neu-2;Zweites Haus;Siegen;siegen;0271 5551235;seniors;cheap;Hallo.;Hallo.\n")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Nichts wurde gespeichert" in body
    assert "projects.csv:3: field &#39;rent_band&#39;: unknown rent band &#39;cheap&#39;; expected one of: low, " \
           "medium, high" in body
    assert set(projects(app)) == set(before)
    # Any file name will do; the messages name the file as uploaded.
    response = upload(staff_client, "Wohnprojekte 2026.yaml", "- id: neu-3\n  name: Drittes Haus\n  town: Siegen\n"
                      "  region: nirgendwo\n  contact_phone: '0271 5551236'\n  kinds: [seniors]\n  rent_band: low\n"
                      "  phone_text: Hallo.\n  sms_text: Hallo.\n")
    assert response.status_code == 422
    assert "Wohnprojekte_2026.yaml:1: unknown region &#39;nirgendwo&#39;" in response.get_data(as_text=True)
    assert upload(staff_client, "projects.txt", "x").status_code == 422
    assert set(projects(app)) == set(before)


def test_download_change_and_upload_again(staff_client, app):
    response = staff_client.get("/housing/projects.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="projects.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == len(projects(app))
    for row in rows:
        if row["id"] == "talblick-hof":
            assert row["flats_free"] == "0" and row["waiting_list"] == "yes"
            row["flats_free"] = "3"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    response = upload(staff_client, "projects.csv", out.getvalue())
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    body = response.get_data(as_text=True)
    assert f"projects: 0 new, 1 updated, {len(rows) - 1} unchanged (projects.csv)" in body
    assert projects(app)["talblick-hof"].flats_free == 3
    staff_log = admin_log(app)
    assert ("housing.upload", "projects.csv") in staff_log


def admin_log(app) -> list[tuple[str, str]]:
    from ivr.db.models import StaffAuditEntry

    with app.app_context():
        return [(e.action, e.target) for e in get_session().scalars(select(StaffAuditEntry))]


def test_the_monthly_report_shows_counts_and_hides_small_ones(staff_client, app):
    from ivr.housing.ranking import Seeker
    from ivr.housing.report import count_demand

    march = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
    with app.app_context():
        session = get_session()
        for _ in range(7):
            count_demand(session, march, Seeker(region="siegen", needs=frozenset({"step_free"}), budget="low",
                                                kind="seniors"), True)
        for _ in range(6):
            count_demand(session, march, Seeker(region="siegen", budget="medium"), False)
        count_demand(session, march, Seeker(region="netphen", needs=frozenset({"care"}), budget="low"), False)
        session.commit()
    page = staff_client.get("/housing/report?month=2026-03").get_data(as_text=True)
    assert "März 2026" in page and "Anfragen an die Wohnprojekt-Beratung" in page
    assert "Siegen" in page and "nur für Ältere" in page and "stufenlos" in page
    assert '<td class="num">7</td>' in page  # seven step-free seekers found a match
    assert 'title="verborgen">x</abbr>' in page  # the one caller from Netphen is hidden
    assert '<option value="2026-03" selected>März 2026</option>' in page
    # Another month has nobody; a bad month is refused in plain words.
    assert "niemand" in staff_client.get("/housing/report?month=2026-04").get_data(as_text=True)
    bad = staff_client.get("/housing/report?month=2026-13")
    assert bad.status_code == 400 and "„2026-13“ ist kein Monat" in bad.get_data(as_text=True)
    # The default is the current month of the cooperative's time zone.
    assert WEDNESDAY_10.strftime("%Y-%m") in staff_client.get("/housing/report").get_data(as_text=True)
    english = staff_client.get("/sprache/en?next=/housing/report?month=2026-03", follow_redirects=True)
    assert "March 2026" in english.get_data(as_text=True)
