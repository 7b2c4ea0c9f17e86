"""The directory in the console: search, add, edit, deactivate, delete, upload all-or-nothing, CSV download."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from ivr.db import get_session
from ivr.db.models import StaffAuditEntry, Tenant, Volunteer
from tests.console.conftest import csrf_token, post


def _count(app, model) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model))


def test_search_and_view(staff_client):
    page = staff_client.get("/directory?kind=tenants&q=Beck").get_data(as_text=True)
    assert "Erika Becker" in page and "Heinrich Vogel" not in page
    assert "Erika Becker" in staff_client.get("/directory?kind=tenants&q=23125321").get_data(as_text=True)
    assert "Jonas Brandt" in staff_client.get("/directory?kind=volunteers&q=lindenhof").get_data(as_text=True)
    entry = staff_client.get("/directory/tenants/1").get_data(as_text=True)
    assert "Hört schwer" in entry and "+493023125301" in entry


def test_add_edit_deactivate(app, staff_client):
    token = csrf_token(staff_client, "/directory/tenants/new")
    bad = staff_client.post("/directory/tenants/new", data={"csrf_token": token, "last_name": "Neu", "house": "lindenhof",
                                                             "phones": "12"})
    assert bad.status_code == 422 and "field &#39;phones&#39;" in bad.get_data(as_text=True)
    bad = staff_client.post("/directory/tenants/new", data={"csrf_token": token, "last_name": "Neu", "house": "nowhere",
                                                             "phones": "0271 5550000"})
    assert bad.status_code == 422 and "unknown house &#39;nowhere&#39;" in bad.get_data(as_text=True)
    good = staff_client.post("/directory/tenants/new", data={
        "csrf_token": token, "first_name": "Rosa", "last_name": "Neumann", "house": "birkenweg",
        "phones": "0271 555 1234", "language": "de"})
    assert good.status_code == 303
    page = staff_client.get(good.headers["Location"]).get_data(as_text=True)
    assert "Rosa Neumann" in page and "+492715551234" in page
    # A number of someone else is refused, like the import refuses it.
    key = good.headers["Location"].rsplit("/", 1)[1]
    token = csrf_token(staff_client, f"/directory/tenants/{key}/edit")
    taken = staff_client.post(f"/directory/tenants/{key}/edit", data={
        "csrf_token": token, "last_name": "Neumann", "house": "birkenweg", "phones": "+49 30 23125301"})
    assert taken.status_code == 422 and "gehört schon einer anderen Person" in taken.get_data(as_text=True)
    moved = staff_client.post(f"/directory/tenants/{key}/edit", data={
        "csrf_token": token, "first_name": "Rosa", "last_name": "Neumann", "house": "muehlenweg",
        "phones": "0271 555 1234, 0271 555 9999"})
    assert moved.status_code == 303
    assert "Mühlenweg" in staff_client.get(f"/directory?kind=tenants&q=Neumann").get_data(as_text=True)
    # Deactivate a volunteer: kept, but no longer active.
    post(staff_client, "/directory/volunteers/1/active", {"active": "0"}, form_path="/directory/volunteers/1")
    with app.app_context():
        assert get_session().get(Volunteer, 1).active is False
        actions = [a.action for a in get_session().scalars(select(StaffAuditEntry).order_by(StaffAuditEntry.id))]
    assert actions[-3:] == ["directory.add", "directory.edit", "directory.deactivate"]


def test_admin_deletes_a_tenant_as_the_privacy_erasure_does_after_seeing_what_goes(app, admin_client, twilio):
    from ivr.db.models import Call, CallbackTask, SmsMessage, StaffAuditEntry

    twilio.call("+493023125301").press("5")  # Frau Becker books IT help: a call, a task, an offer SMS
    twilio.call("+493023125302").press("5")  # Herr Vogel too; his stay
    plan = admin_client.get("/directory/tenants/1/delete").get_data(as_text=True)
    assert "+493023125301" in plan and "+493023125321" in plan and "Endgültig löschen" in plan
    assert "1 Anrufe mit ihrem Verlauf" in plan and "1 Rückruf-Aufgaben" in plan and "1 SMS" in plan
    before = _count(app, Tenant)
    response = post(admin_client, "/directory/tenants/1/delete", form_path="/directory/tenants/1/delete")
    assert response.status_code == 303
    assert "Gelöscht: Erika Becker." in admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Erika Becker" not in admin_client.get("/directory?kind=tenants").get_data(as_text=True)
    assert _count(app, Tenant) == before - 1
    assert (_count(app, Call), _count(app, CallbackTask)) == (1, 1)  # only Herr Vogel's are left
    with app.app_context():
        session = get_session()
        assert not any("23125301" in (m.to_number + m.from_number + m.body) for m in session.scalars(select(SmsMessage)))
        audit = session.scalars(select(StaffAuditEntry).where(StaffAuditEntry.action == "directory.delete")).one()
        assert audit.actor == "admin@talblick.example" and "calls deleted: 1" in audit.detail
        assert "23125301" not in audit.detail  # the log of the erasure holds no number
    # A house that still has tenants cannot go.
    response = post(admin_client, "/directory/houses/lindenhof/delete", form_path="/directory/houses/lindenhof")
    assert "noch Mieter oder Helfer" in admin_client.get(response.headers["Location"]).get_data(as_text=True)


def test_admin_deletes_a_partner(app, admin_client):
    from ivr.db.models import Partner

    before = _count(app, Partner)
    post(admin_client, "/directory/partners/rosengarten/delete", form_path="/directory/partners/rosengarten")
    assert _count(app, Partner) == before - 1


def _upload(client, files: dict[str, str]):
    token = csrf_token(client, "/directory/upload")
    data = {"csrf_token": token, "files": [(io.BytesIO(text.encode()), name) for name, text in files.items()]}
    return client.post("/directory/upload", data=data, content_type="multipart/form-data")


def test_upload_with_a_bad_row_shows_file_and_line_and_writes_nothing(app, staff_client):
    before = _count(app, Tenant)
    response = _upload(staff_client, {
        "tenants.csv": "first_name;last_name;house;phones\nRosa;Neumann;birkenweg;0271 5551234\n"
                       "Otto;Ohnehaus;gibtsnicht;0271 5559876\n"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "tenants.csv:3: unknown house" in body and "Nichts wurde gespeichert" in body
    assert "/tmp" not in body and "hausruf-upload" not in body
    assert _count(app, Tenant) == before
    response = _upload(staff_client, {"tenants.csv": "first_name;last_name;house;phones\n"
                                                      "Rosa;Neumann;birkenweg;0271 5551234\n"})
    assert response.status_code == 200
    assert "tenants: 1 new, 0 updated, 0 unchanged (tenants.csv)" in response.get_data(as_text=True)
    assert _count(app, Tenant) == before + 1
    assert _upload(staff_client, {"mieter.csv": "x"}).status_code == 422


def test_csv_download_reads_back_unchanged(app, staff_client):
    response = staff_client.get("/directory/tenants.csv")
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufefffirst_name;last_name;salutation;language;house;phones;notes")
    assert "Erika;Becker;Frau Becker;de;lindenhof;+493023125301, +493023125321;" in text
    again = _upload(staff_client, {"tenants.csv": text.lstrip("\ufeff")})
    assert "tenants: 0 new, 0 updated, 13 unchanged" in again.get_data(as_text=True)


def test_the_matrix_fields_are_shown_and_edited_like_the_others(app, staff_client):
    entry = staff_client.get("/directory/volunteers/1").get_data(as_text=True)
    assert "Matrix-ID für Aufgaben im Chat" in entry and "@jonas:talblick.example" in entry
    house = staff_client.get("/directory/houses/lindenhof").get_data(as_text=True)
    assert "#lindenhof:talblick.example" in house
    token = csrf_token(staff_client, "/directory/volunteers/2/edit")
    form = {"csrf_token": token, "name": "Petra Wolf", "phone": "+49 30 23125202", "house": "lindenhof",
            "active": "1", "matrix": "petra@talblick"}
    bad = staff_client.post("/directory/volunteers/2/edit", data=form)
    assert bad.status_code == 422 and "is not a Matrix user ID" in bad.get_data(as_text=True)
    assert staff_client.post("/directory/volunteers/2/edit",
                             data=form | {"matrix": "@petra:talblick.example"}).status_code == 303
    token = csrf_token(staff_client, "/directory/tenants/2/edit")
    tenant_form = staff_client.get("/directory/tenants/2/edit").get_data(as_text=True)
    assert 'name="house_chat" type="checkbox" value="1" >' in tenant_form  # not opted in: unticked
    assert staff_client.post("/directory/tenants/2/edit", data={
        "csrf_token": token, "first_name": "Heinrich", "last_name": "Vogel", "house": "lindenhof",
        "phones": "+49 30 23125302", "house_chat": "1"}).status_code == 303
    with app.app_context():
        assert get_session().get(Volunteer, 2).matrix == "@petra:talblick.example"
        assert get_session().get(Tenant, 2).house_chat is True
