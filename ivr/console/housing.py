"""/housing: the community housing projects of the housing line (free flats, waiting lists, open requests),
upload and download of the projects file, and the anonymous monthly report of what callers asked for.

The upload goes through `hausruf import` (ivr.directory.importer) with the projects file alone, so the
page refuses exactly what the import refuses, with the same `file:line` messages, and writes nothing then.
"""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, render_template, request
from sqlalchemy import select
from werkzeug.utils import secure_filename

from ivr.console.audit import record
from ivr.console.tasks import STATE_LABELS
from ivr.console.web import _, bp, db_read, db_write, now_utc
from ivr.db.models import Region
from ivr.directory.importer import DirectoryError, import_directory
from ivr.directory.sources import SUFFIXES
from ivr.housing.directory import DIRECTORY_KIND, SCHEMA
from ivr.housing.models import HousingDemand, HousingProject
from ivr.housing.report import check_month, demand_tables
from ivr.housing.requests import open_request_counts, requests_of
from ivr.housing.suppression import TOTAL
from ivr.housing.vocabulary import ANY
from ivr.tasks.states import ACTIVE

KIND_NAMES = {"multi_generation": "Mehrgenerationen-Wohnen", "seniors": "nur für Ältere",
              "shared_flat": "Wohngemeinschaft", "cooperative": "Genossenschaft"}
FEATURE_NAMES = {"step_free": "stufenlos", "lift": "Aufzug", "care": "Pflegedienst im Haus", "garden": "Garten",
                 "pets": "Haustiere erlaubt", "shared_rooms": "Gemeinschaftsräume"}
RENT_NAMES = {"low": "bis 500 € im Monat", "medium": "bis 800 € im Monat", "high": "über 800 € im Monat"}
REPORT_NAMES = {ANY: "egal", "none": "keine besonderen", TOTAL: "zusammen", "match": "passendes Projekt genannt",
                "no_match": "nichts Passendes"}
DIMENSION_NAMES = {"region": "Ort", "kind": "Wohnform", "budget": "Miete, die gezahlt werden kann", "need": "Braucht (mehrere möglich)"}
OPEN = ACTIVE + ("expired",)  # requests nobody has finished: the expired ones wait for the office
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MONTH_NAMES = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
               "November", "Dezember")


def _names(values, table) -> str:
    return ", ".join(_(table.get(v, v)) for v in values) or "–"


@bp.get("/housing")
def housing():
    """Every project: town, kinds, what it offers, rent, free flats, waiting list, open requests."""
    db = db_read()
    projects = list(db.scalars(select(HousingProject).order_by(HousingProject.active.desc(), HousingProject.town,
                                                               HousingProject.name)))
    requests = open_request_counts(db, OPEN)
    active = [p for p in projects if p.active]
    summary = {"projects": len(active), "flats": sum(p.flats_free for p in active),
               "with_flats": sum(1 for p in active if p.flats_free),
               "waiting": sum(1 for p in active if p.waiting_list), "requests": sum(requests.values())}
    return render_template("console/housing.html", title=_("Wohnprojekte"), projects=projects, requests=requests,
                           summary=summary, names=_names, kinds=KIND_NAMES, features=FEATURE_NAMES,
                           rents=RENT_NAMES)


@bp.get("/housing/projects/<project_id>")
def housing_project(project_id: str):
    """One project with every field of the file, and its callback requests."""
    db = db_read()
    project = db.get(HousingProject, project_id)
    if project is None:
        abort(404)
    requests = [task for _project, task in requests_of(db, [project.id])]
    return render_template("console/housing_project.html", title=project.name, p=project, requests=requests,
                           names=_names, kinds=KIND_NAMES, features=FEATURE_NAMES, rents=RENT_NAMES,
                           state_labels=STATE_LABELS)


@bp.route("/housing/upload", methods=["GET", "POST"])
def housing_upload():
    """Upload the projects file (.csv or .yaml), checked like `hausruf import`: every row or nothing."""
    if request.method == "GET":
        return _upload_page([], [])
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _upload_page([_("Bitte wählen Sie eine Datei.")], []), 422
    name = secure_filename(upload.filename) or "projects"
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        return _upload_page([_("%(name)s: bitte eine Datei mit der Endung .csv, .yaml oder .yml, z. B. "
                               "projects.csv.", name=upload.filename)], []), 422
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _upload_page([_("%(name)s ist größer als 5 MB.", name=name)], []), 413
    db = db_write()
    with tempfile.TemporaryDirectory(prefix="hausruf-upload-") as folder:
        # The importer finds a kind's file by its name; messages name the file as it was uploaded.
        stored = Path(folder) / f"{DIRECTORY_KIND.name}{suffix}"
        stored.write_bytes(data)
        try:
            report = import_directory(db, folder)
        except DirectoryError as exc:
            db.rollback()
            shown = [str(p).replace(str(stored), name).replace(folder + "/", "") for p in exc.problems]
            return _upload_page(shown, [], nothing_written=True), 422
    lines = [line.replace(stored.name, name) for line in report.lines()]
    record(db, "housing.upload", name, "; ".join(lines))
    db.commit()
    return _upload_page([], lines)


def _upload_page(problems: list[str], report: list[str], nothing_written: bool = False) -> str:
    return render_template("console/housing_upload.html", title=_("Wohnprojekte hochladen"), problems=problems, report=report,
                           nothing_written=nothing_written, fields=list(SCHEMA))


@bp.get("/housing/projects.csv")
def housing_csv():
    """The projects file as CSV with the import's column names (edit it and upload it again)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(SCHEMA), delimiter=";")
    writer.writeheader()
    for row in DIRECTORY_KIND.rows(db_read()):
        writer.writerow({k: (", ".join(v) if isinstance(v, (list, tuple)) else
                             ("yes" if v is True else "no" if v is False else v)) for k, v in row.items()})
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="projects.csv"'})


@bp.get("/housing/report")
def housing_report():
    """What callers of the housing line asked for in one calendar month: anonymous counts, small ones hidden."""
    db = db_read()
    zone = ZoneInfo(current_app.config["HAUSRUF"].timezone)
    this_month = now_utc().astimezone(zone).strftime("%Y-%m")
    month = request.args.get("month", "") or this_month
    try:
        check_month(month)
    except ValueError:
        return render_template("console/error.html", title=_("Unbekannter Monat"),
                               message=_("„%(month)s“ ist kein Monat. Bitte wählen Sie einen Monat aus der Liste, "
                                         "geschrieben wie 2026-03.", month=month)), 400
    months = sorted(set(db.scalars(select(HousingDemand.month).distinct())) | {this_month, month}, reverse=True)
    regions = {r.id: r.name for r in db.scalars(select(Region))}
    labels = {"region": regions, "kind": KIND_NAMES, "budget": RENT_NAMES, "need": FEATURE_NAMES}
    tables = demand_tables(db, month)
    callers = sum(t.counts[(TOTAL, TOTAL)] for t in tables if t.dimension == "region")
    return render_template("console/housing_report.html", title=_("Anfragen an die Wohnprojekt-Beratung"),
                           month=month, months=months, tables=tables, labels=labels, callers=callers,
                           report_names=REPORT_NAMES, dimension_names=DIMENSION_NAMES,
                           month_name=_month_name)


def _month_name(month: str) -> str:
    """'2026-03' -> 'März 2026' (in the console's language)."""
    when = datetime.strptime(month, "%Y-%m")
    return f"{_(MONTH_NAMES[when.month - 1])} {when.year}"
