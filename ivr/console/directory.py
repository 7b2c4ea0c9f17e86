"""/directory: houses, tenants, volunteers, partners (and regions): search, view, add, edit, deactivate, delete,
upload (the files `hausruf import` reads, with its all-or-nothing validation) and download as CSV.

Every form is checked by the importer's own row validation (ivr.directory.records), so a value the
console accepts is a value the import accepts, with the same messages.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.utils import secure_filename

from ivr.console.audit import record
from ivr.console.web import _, admin_required, bp, db_read, db_write
from ivr.db.models import CallbackTask, House, Partner, Region, Tenant, TenantPhone, Volunteer
from ivr.directory.exporter import _plain, _served, directory_rows
from ivr.directory.fields import ALL_REGIONS, LANGUAGES
from ivr.directory.importer import DirectoryError, import_directory
from ivr.directory.records import SCHEMAS, reference_problems, validate_row
from ivr.directory.sources import KINDS, SUFFIXES, Row
from ivr.flows.model import SERVICE_KINDS
from ivr.privacy.person import erase_person, find_holdings
from ivr.wiring import hausruf

MODELS = {"regions": Region, "houses": House, "tenants": Tenant, "volunteers": Volunteer, "partners": Partner}
KIND_LABELS = {"houses": "Häuser", "tenants": "Mieterinnen und Mieter", "volunteers": "Helferinnen und Helfer",
               "partners": "Partnerdienste", "regions": "Orte"}
FIELD_LABELS = {"id": "Kennung", "name": "Name", "address": "Adresse", "region": "Ort", "first_name": "Vorname",
                "last_name": "Nachname", "salutation": "Anrede (wird gesprochen)", "language": "Sprache",
                "house": "Haus", "phones": "Telefonnummern (mehrere mit Komma)", "notes": "Notizen",
                "phone": "Telefonnummer", "role": "Rolle", "active": "aktiv",
                "quiet_hours": "Ruhezeit (z. B. 22:00-08:00)", "service": "Dienst",
                "regions": "Orte (Kennungen mit Komma, oder all)", "opening_hours": "Öffnungszeiten",
                "whisper": "Ansage an den Partner",
                "chat_room": "Haus-Chat (Matrix-Raum, z. B. #lindenhof:talblick.example)",
                "matrix": "Matrix-ID für Aufgaben im Chat (z. B. @jonas:talblick.example)",
                "house_chat": "hört und schreibt im Haus-Chat per Telefon"}
CHECKBOXES = ("active", "house_chat")
HAS_ACTIVE = ("volunteers", "partners")
FORM_PLACE = "Formular"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def _kind_or_404(kind: str) -> type:
    if kind not in MODELS:
        abort(404)
    return MODELS[kind]


def _get(db, kind: str, key: str):
    model = _kind_or_404(kind)
    if kind in ("tenants", "volunteers"):
        obj = db.get(model, int(key)) if key.isdigit() else None
    else:
        obj = db.get(model, key)
    if obj is None:
        abort(404)
    return obj


def key_of(obj) -> str:
    return str(obj.id)


def title_of(kind: str, obj) -> str:
    """How a record is named on the pages."""
    if kind == "tenants":
        return " ".join(p for p in (obj.first_name, obj.last_name) if p)
    return obj.name


def values_of(kind: str, obj) -> dict[str, Any]:
    """A record under the import's field names (as the export writes it)."""
    special = {"regions": {"id": obj.id}, "houses": {"id": obj.id},
               "tenants": {"phones": [p.number for p in obj.phones]} if kind == "tenants" else {},
               "volunteers": {"phone": getattr(obj, "phone", "")},
               "partners": {"id": obj.id}}[kind]
    if kind == "partners":
        special["regions"] = _served(obj, set())
    return _plain(kind, obj, **special)


@bp.get("/directory")
def directory():
    """One kind at a time (tabs), with a search over names, numbers and houses."""
    db = db_read()
    kind = request.args.get("kind", "tenants")
    model = _kind_or_404(kind)
    text = request.args.get("q", "").strip()
    query = select(model)
    if kind == "tenants":
        query = query.options(selectinload(Tenant.phones), selectinload(Tenant.house)).order_by(
            Tenant.last_name, Tenant.first_name)
        if text:
            like = f"%{text}%"
            digits = "".join(c for c in text if c.isdigit())
            conditions = [Tenant.first_name.ilike(like), Tenant.last_name.ilike(like), Tenant.house_id.ilike(like)]
            if len(digits) >= 3:
                conditions.append(Tenant.phones.any(TenantPhone.number.like(f"%{digits}%")))
            query = query.where(or_(*conditions))
    else:
        query = query.order_by(model.name)
        if text:
            like = f"%{text}%"
            conditions = [model.name.ilike(like)]
            if kind == "volunteers":
                conditions += [Volunteer.phone.like(f"%{''.join(c for c in text if c.isdigit()) or text}%"),
                               Volunteer.house_id.ilike(like)]
            if kind == "houses":
                conditions += [House.address.ilike(like), House.region_id.ilike(like)]
            if kind == "partners":
                conditions += [Partner.service_kind.ilike(like)]
            query = query.where(or_(*conditions))
    rows = list(db.scalars(query))
    return render_template("console/directory.html", title=_("Verzeichnis"), kind=kind, kinds=KIND_LABELS, rows=rows,
                           q=text, title_of=title_of, key_of=key_of, has_active=kind in HAS_ACTIVE)


@bp.get("/directory/<kind>/<key>")
def directory_entry(kind: str, key: str):
    """One record with every field, and what may be done with it."""
    db = db_read()
    obj = _get(db, kind, key)
    extra = {}
    if kind == "tenants":
        extra["tasks"] = db.scalar(select(CallbackTask.id).where(CallbackTask.tenant_id == obj.id).limit(1)) is not None
    return render_template("console/entry.html", title=title_of(kind, obj), kind=kind, obj=obj, key=key,
                           values=values_of(kind, obj), labels=FIELD_LABELS, kinds=KIND_LABELS,
                           has_active=kind in HAS_ACTIVE, **extra)


@bp.route("/directory/<kind>/new", methods=["GET", "POST"])
def directory_new(kind: str):
    """Add a record; checked like an imported row."""
    _kind_or_404(kind)
    values = {name: "" for name in SCHEMAS[kind]}
    if request.method == "POST":
        values = _form_values(kind)
        db = db_write()
        problems, record_ = _validate(db, kind, values, None)
        if not problems:
            try:
                obj = _create(db, kind, record_)
                db.flush()
                record(db, "directory.add", f"{kind} {obj.id}")
                db.commit()
                flash(_("Gespeichert."))
                return redirect(url_for("console.directory_entry", kind=kind, key=key_of(obj)), 303)
            except IntegrityError:
                db.rollback()
                problems = [_("Dieser Eintrag überschneidet sich mit einem vorhandenen (gleiche Kennung oder Nummer).")]
        return _form(kind, values, problems, None), 422
    return _form(kind, values, [], None)


@bp.route("/directory/<kind>/<key>/edit", methods=["GET", "POST"])
def directory_edit(kind: str, key: str):
    """Change a record; the id of houses, places and partners stays (calls and tasks refer to it)."""
    if request.method == "GET":
        obj = _get(db_read(), kind, key)
        return _form(kind, values_of(kind, obj), [], obj)
    db = db_write()
    obj = _get(db, kind, key)
    values = _form_values(kind)
    if "id" in values:
        values["id"] = obj.id
    problems, record_ = _validate(db, kind, values, obj)
    if not problems:
        try:
            _update(db, kind, obj, record_)
            record(db, "directory.edit", f"{kind} {obj.id}")
            db.commit()
            flash(_("Gespeichert."))
            return redirect(url_for("console.directory_entry", kind=kind, key=key), 303)
        except IntegrityError:
            db.rollback()
            problems = [_("Dieser Eintrag überschneidet sich mit einem vorhandenen (gleiche Kennung oder Nummer).")]
    return _form(kind, values, problems, obj), 422


@bp.post("/directory/<kind>/<key>/active")
def directory_active(kind: str, key: str):
    """Deactivate (or activate again) a volunteer or partner: kept in the directory, no longer used."""
    if kind not in HAS_ACTIVE:
        abort(404)
    db = db_write()
    obj = _get(db, kind, key)
    obj.active = request.form.get("active") == "1"
    record(db, "directory.activate" if obj.active else "directory.deactivate", f"{kind} {obj.id}")
    db.commit()
    flash(_("Aktiviert.") if obj.active else _("Deaktiviert: wird nicht mehr angerufen oder benachrichtigt."))
    return redirect(url_for("console.directory_entry", kind=kind, key=key), 303)


@bp.route("/directory/<kind>/<key>/delete", methods=["GET", "POST"])
@admin_required
def directory_delete(kind: str, key: str):
    """Delete a record (admins): first a page that says what will be removed, then the POST that does it.

    A person (tenant or helper) is erased as `hausruf person erase` does it (ivr.privacy): the entry
    and, for each of their numbers, the calls, tasks, SMS and recordings, here and at Twilio.
    """
    read = db_read()
    obj = _get(read, kind, key)
    removes, blocked = _deletion_plan(read, kind, obj)
    name = title_of(kind, obj)
    if request.method == "GET":
        return render_template("console/delete.html", title=_("Löschen: %(name)s", name=name),
                               kind=kind, key=key, obj=obj, removes=removes, blocked=blocked, kinds=KIND_LABELS)
    if blocked:
        flash(blocked, "error")
        return redirect(url_for("console.directory_entry", kind=kind, key=key), 303)
    if kind in PEOPLE:
        numbers = _numbers(kind, obj)
        read.rollback()  # no snapshot held while the erasure writes
        done = []
        for number in numbers:
            done += erase_person(current_app.config["HAUSRUF"], number,
                                     erase_at_provider=hausruf(current_app).erase_at_provider)
        db = db_write()
    else:
        db = db_write()
        db.delete(_get(db, kind, key))
        done = [f"{kind} entry deleted"]
    record(db, "directory.delete", f"{kind} {key}", "; ".join(done))
    db.commit()
    flash(_("Gelöscht: %(name)s.", name=name))
    return redirect(url_for("console.directory", kind=kind), 303)


PEOPLE = ("tenants", "volunteers")


def _numbers(kind: str, obj) -> list[str]:
    return [p.number for p in obj.phones] if kind == "tenants" else [obj.phone]


def _deletion_plan(db, kind: str, obj) -> tuple[list[str], str]:
    """(what deleting removes, why it cannot be deleted or "")."""
    if kind in PEOPLE:
        numbers = _numbers(kind, obj)
        calls, tasks, sms, recordings = set(), set(), set(), set()
        for number in numbers:
            held = find_holdings(db, number)
            calls |= {c.id for c in held.calls}
            tasks |= {t.id for t in held.tasks}
            sms |= {m.id for m in held.sms}
            recordings |= set(held.recording_sids)
        return [_("der Eintrag im Verzeichnis mit Name, Anrede und Notizen"),
                _("die Telefonnummern: %(numbers)s", numbers=", ".join(numbers)),
                _("%(n)s Anrufe mit ihrem Verlauf", n=len(calls)),
                _("%(n)s Rückruf-Aufgaben mit Nachrichten und Abschriften", n=len(tasks)),
                _("%(n)s SMS", n=len(sms)),
                _("%(n)s Aufnahmen, hier und bei Twilio; dazu die Anrufe und SMS bei Twilio", n=len(recordings)),
                _("verpasste Anrufe im Zwischenspeicher und persönliche Ansagen dieser Nummern")], ""
    if kind == "houses":
        if obj.tenants or obj.volunteers:
            return [], _("Das Haus hat noch Mieter oder Helfer; bitte zuerst diese löschen oder umziehen lassen.")
        return [_("das Haus %(name)s", name=obj.name)], ""
    if kind == "regions":
        if obj.houses:
            return [], _("Zu diesem Ort gehören noch Häuser.")
        return [_("der Ort %(name)s; Partner verlieren ihn aus ihrem Gebiet", name=obj.name)], ""
    return [_("der Partnerdienst %(name)s mit seinem Gebiet", name=obj.name)], ""


# --- forms ----------------------------------------------------------------------------------------

def _form_values(kind: str) -> dict[str, Any]:
    values = {}
    for name in SCHEMAS[kind]:
        if name in CHECKBOXES:
            values[name] = "true" if request.form.get(name) else "false"
        else:
            values[name] = request.form.get(name, "").strip()
    return values


def _validate(db, kind: str, values: dict[str, Any], obj) -> tuple[list[str], Any]:
    """The importer's checks for one row, plus uniqueness against the database; messages without file:line."""
    record_, problems = validate_row(Row(kind, FORM_PLACE, 1, dict(values)))
    messages = [p.message for p in problems]
    if record_ is None:
        return messages, None
    known = {"regions": set(db.scalars(select(Region.id))), "houses": set(db.scalars(select(House.id)))}
    messages += [p.message for p in reference_problems([record_], known)]
    if obj is None and kind in ("regions", "houses", "partners") and db.get(MODELS[kind], record_["id"]):
        messages.append(_("Die Kennung %(id)s ist schon vergeben.", id=record_["id"]))
    if kind == "tenants":
        owners = set(db.scalars(select(TenantPhone.tenant_id).where(TenantPhone.number.in_(record_["phones"]))))
        if owners - ({obj.id} if obj is not None else set()):
            messages.append(_("Eine dieser Nummern gehört schon einer anderen Person."))
    if kind == "volunteers":
        owner = db.scalar(select(Volunteer.id).where(Volunteer.phone == record_["phone"]))
        if owner is not None and (obj is None or owner != obj.id):
            messages.append(_("Diese Nummer gehört schon einer anderen Helferin oder einem anderen Helfer."))
    return messages, record_


def _regions(db, record_) -> list[Region]:
    if record_["regions"] == (ALL_REGIONS,):
        return list(db.scalars(select(Region).order_by(Region.id)))
    return [db.get(Region, r) for r in sorted(record_["regions"])]


def _create(db, kind: str, record_):
    model = MODELS[kind]
    columns = record_.columns()
    if kind == "tenants":
        obj = Tenant(phones=[TenantPhone(number=n) for n in record_["phones"]], **columns)
    elif kind == "volunteers":
        obj = Volunteer(phone=record_["phone"], **columns)
    elif kind == "partners":
        obj = Partner(id=record_["id"], regions=_regions(db, record_), **columns)
    else:
        obj = model(id=record_["id"], **columns)
    db.add(obj)
    return obj


def _update(db, kind: str, obj, record_) -> None:
    for name, value in record_.columns().items():
        setattr(obj, name, value)
    if kind == "tenants" and [p.number for p in obj.phones] != list(record_["phones"]):
        by_number = {p.number: p for p in obj.phones}
        obj.phones = [by_number.get(n) or TenantPhone(number=n) for n in record_["phones"]]
    if kind == "volunteers":
        obj.phone = record_["phone"]
    if kind == "partners":
        obj.regions = _regions(db, record_)


def _form(kind: str, values: dict[str, Any], problems: list[str], obj):
    db = db_read()
    choices = {
        "house": [(h.id, h.name) for h in db.scalars(select(House).order_by(House.name))],
        "region": [(r.id, r.name) for r in db.scalars(select(Region).order_by(Region.name))],
        "service": [(s, s) for s in SERVICE_KINDS],
        "language": [(code, code) for code in LANGUAGES],
    }
    shown = {k: (", ".join(v) if isinstance(v, (list, tuple)) else v) for k, v in values.items()}
    return render_template("console/form.html", title=(_("Bearbeiten: %(name)s", name=title_of(kind, obj)) if obj
                                                       else _("Neu: %(kind)s", kind=_(KIND_LABELS[kind]))),
                           kind=kind, values=shown, problems=problems, obj=obj, labels=FIELD_LABELS,
                           choices=choices, fields=list(SCHEMAS[kind]), kinds=KIND_LABELS,
                           key=key_of(obj) if obj is not None else None)


# --- upload and download ----------------------------------------------------------------------------

@bp.route("/directory/upload", methods=["GET", "POST"])
def directory_upload():
    """Upload regions/houses/tenants/volunteers/partners files (.csv or .yaml): all rows or nothing."""
    if request.method == "GET":
        return render_template("console/upload.html", title=_("Verzeichnis hochladen"), problems=[], report=[])
    files = [f for f in request.files.getlist("files") if f and f.filename]
    problems: list[str] = []
    if not files:
        problems.append(_("Bitte wählen Sie mindestens eine Datei."))
    names = []
    for upload in files:
        name = secure_filename(upload.filename)
        stem, suffix = Path(name).stem, Path(name).suffix.lower()
        if stem not in KINDS or suffix not in SUFFIXES:
            problems.append(_("%(name)s: der Dateiname muss eine dieser Arten nennen: %(kinds)s "
                              "(mit .csv, .yaml oder .yml), z. B. tenants.csv.",
                              name=upload.filename, kinds=", ".join(KINDS)))
        names.append(name)
    if problems:
        return render_template("console/upload.html", title=_("Verzeichnis hochladen"), problems=problems,
                               report=[]), 422
    db = db_write()
    with tempfile.TemporaryDirectory(prefix="hausruf-upload-") as folder:
        for upload, name in zip(files, names):
            data = upload.read(MAX_UPLOAD_BYTES + 1)
            if len(data) > MAX_UPLOAD_BYTES:
                return render_template("console/upload.html", title=_("Verzeichnis hochladen"),
                                       problems=[_("%(name)s ist größer als 5 MB.", name=name)], report=[]), 413
            (Path(folder) / name).write_bytes(data)
        try:
            report = import_directory(db, folder)
        except DirectoryError as exc:
            db.rollback()
            shown = [str(p).replace(folder + "/", "") for p in exc.problems]
            return render_template("console/upload.html", title=_("Verzeichnis hochladen"), problems=shown,
                                   report=[], nothing_written=True), 422
        lines = report.lines()
        record(db, "directory.upload", ", ".join(names), "; ".join(lines))
        db.commit()
    return render_template("console/upload.html", title=_("Verzeichnis hochladen"), problems=[], report=lines)


@bp.get("/directory/<kind>.csv")
def directory_csv(kind: str):
    """One kind as CSV with the import's column names (so the file can be edited and uploaded again)."""
    _kind_or_404(kind)
    rows = directory_rows(db_read())[kind]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(SCHEMAS[kind]), delimiter=";")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (", ".join(v) if isinstance(v, list) else ("true" if v is True else "false" if v is False
                                                                        else v)) for k, v in row.items()})
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})
