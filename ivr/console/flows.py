"""/flows: every flow with its revisions, the checker's problems, a picture; admin upload; the menu card PDF.

Revision semantics belong to ivr.flows (runtime.py, revisions.py): this module only reads what the
running FlowSet and the flow_revisions table say, and hands an uploaded text to the checker and
then to the flows folder, where the server's own reload stores it as a revision.
"""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.utils import secure_filename

from ivr.console.audit import record
from ivr.console.card import CardError, card_for, card_pdf
from ivr.console.graph import GraphvizMissing, mermaid, svg
from ivr.console.web import _, admin_required, bp, db_read, db_write, now_utc
from ivr.db.models import FlowRevision, FlowServerLoad, House
from ivr.flows.loader import FLOW_SUFFIXES
from ivr.flows.problems import ERROR
from ivr.wiring import hausruf

MAX_FLOW_BYTES = 512 * 1024


def _live():
    return hausruf(current_app).flows


def _flow(name: str, language: str | None):
    flowset = _live().current()
    settings = current_app.config["HAUSRUF"]
    try:
        return flowset.get(name, language or settings.default_language, settings.default_language)
    except KeyError:
        abort(404)


@bp.get("/flows")
def flows():
    """Every loaded flow with its file, current revision and problems; the revisions stored for each."""
    flowset = _live().current()
    db = db_read()
    revisions = list(db.scalars(select(FlowRevision).order_by(FlowRevision.loaded_at.desc())))
    by_key: dict[tuple[str, str], list[FlowRevision]] = {}
    for revision in revisions:
        by_key.setdefault((revision.name, revision.language), []).append(revision)
    return render_template("console/flows.html", title=_("Abläufe"), flows=flowset.flows(),
                           problems=flowset.problems, revisions=by_key, servers=_server_loads(db), ERROR=ERROR,
                           shown_path=_shown_path)


def _server_loads(db, flow=None) -> dict[tuple[str, str], list[FlowServerLoad]]:
    """What each server process serves, by (name, language), most recently reported first."""
    query = select(FlowServerLoad).order_by(FlowServerLoad.seen_at.desc(), FlowServerLoad.server)
    if flow is not None:
        query = query.where(FlowServerLoad.name == flow.name, FlowServerLoad.language == flow.language)
    found: dict[tuple[str, str], list[FlowServerLoad]] = {}
    for load in db.scalars(query):
        found.setdefault((load.name, load.language), []).append(load)
    return found


@bp.get("/flows/<name>")
def flow(name: str):
    """One flow: its picture, its menu keys, its revisions and the menu card of each house."""
    language = request.args.get("language")
    flow = _flow(name, language)
    db = db_read()
    try:
        picture, picture_error = svg(flow), None
    except (GraphvizMissing, RuntimeError) as exc:
        picture, picture_error = None, str(exc)
    revisions = list(db.scalars(select(FlowRevision).where(FlowRevision.name == flow.name,
                                                           FlowRevision.language == flow.language)
                                .order_by(FlowRevision.loaded_at.desc())))
    problems = [p for p in _live().current().problems if Path(p.path).name == Path(flow.where.path).name]
    houses = list(db.scalars(select(House).order_by(House.name)))
    return render_template("console/flow.html", title=_("Ablauf %(name)s", name=f"{flow.name} ({flow.language})"),
                           flow=flow, picture=picture, picture_error=picture_error, mermaid=mermaid(flow),
                           revisions=revisions, problems=problems, houses=houses, shown_path=_shown_path,
                           servers=_server_loads(db, flow).get((flow.name, flow.language), []))


@bp.get("/flows/<name>/graph.svg")
def flow_svg(name: str):
    """The picture alone (to save or print)."""
    try:
        return Response(svg(_flow(name, request.args.get("language"))), mimetype="image/svg+xml")
    except GraphvizMissing as exc:
        return Response(str(exc), status=503, mimetype="text/plain")


@bp.get("/flows/<name>/graph.mmd")
def flow_mermaid(name: str):
    """The Mermaid text of the picture."""
    return Response(mermaid(_flow(name, request.args.get("language"))), mimetype="text/plain; charset=utf-8")


@bp.get("/flows/<name>/card")
def flow_card(name: str):
    """The printable menu card of one house (?house=<id>) as PDF."""
    flow = _flow(name, request.args.get("language"))
    house = request.args.get("house", "")
    try:
        card = card_for(db_read(), flow, house, current_app.config["HAUSRUF"], now_utc())
    except CardError as exc:
        return render_template("console/error.html", title=_("Keine Karte"), message=str(exc)), 404
    return Response(card_pdf(card), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="hausruf-karte-{house}.pdf"'})


@bp.route("/flows/upload", methods=["GET", "POST"])
@admin_required
def flow_upload():
    """Upload a flow file: checked first and refused with the checker's messages; a clean file goes live."""
    if request.method == "GET":
        return render_template("console/flow_upload.html", title=_("Ablauf hochladen"), problems=[])
    upload = request.files.get("file")
    name = secure_filename(upload.filename) if upload and upload.filename else ""
    problems: list[str] = []
    if not name or Path(name).suffix not in FLOW_SUFFIXES:
        problems.append(_("Bitte wählen Sie eine Ablauf-Datei (.yaml)."))
    else:
        data = upload.read(MAX_FLOW_BYTES + 1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
            problems.append(_("%(name)s ist keine UTF-8-Textdatei.", name=name))
        if len(data) > MAX_FLOW_BYTES:
            problems.append(_("%(name)s ist zu groß (höchstens 512 KB).", name=name))
        if text is not None and not problems:
            problems = store_uploaded_flow(name, text)
            if not problems:
                record(db_write(), "flow.upload", name)
                db_write().commit()
                flash(_("%(name)s ist geprüft und gespeichert; neue Anrufe hören die neue Fassung.", name=name))
                return redirect(url_for("console.flows"), 303)
    return render_template("console/flow_upload.html", title=_("Ablauf hochladen"), problems=problems), 422


def store_uploaded_flow(name: str, text: str) -> list[str]:
    """Check a flow text as `hausruf check` would and store it when clean (ivr.flows.runtime owns how).

    Returns the problems of a refused file (empty when it was stored and is now what new calls get).
    """
    result = _live().store_upload(name, text)
    return [] if result.stored else result.messages


def _shown_path(path: str) -> str:
    return Path(path).name
