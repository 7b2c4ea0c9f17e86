"""/calls: recent calls with who, how long and what came of it; a call's timeline; where callers hang up."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from flask import abort, render_template, request
from flask_login import current_user
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import selectinload

from ivr.console.web import _, bp, db_read, local_time, now_utc
from ivr.db.models import Call, CallEvent, Tenant
from ivr.directory.phones import mask

SERVICE_LABELS = {"groceries": "Einkauf", "meals": "Essen", "home_emergency": "Hausnotruf", "home_care": "Pflege",
                  "day_care": "Tagespflege", "staff": "Büro", "volunteers": "IT-Helfer", "number": "Nummer"}
EVENT_LABELS = {"start": "Anruf beginnt", "digits": "Taste", "speech": "Wort", "no_input": "keine Eingabe",
                "dial_result": "Verbindung", "recording": "Nachricht", "status": "Anruf endet",
                "hangup": "aufgelegt"}
HUNG_UP = re.compile(r"hung up at (?P<node>\S+) \((?P<waiting>[^)]*)\)")
DROP_OFF_DAYS = 30


def describe_outcome(outcome: str) -> list[str]:
    """The call's outcome column as plain German phrases: connected to whom, callback booked, hung up where."""
    phrases = []
    for part in (p.strip() for p in (outcome or "").split(";") if p.strip()):
        hung = HUNG_UP.match(part)
        kind, _sep, detail = part.partition(" ")
        label = _(SERVICE_LABELS.get(detail, detail))
        if hung:
            phrases.append(_("aufgelegt in %(node)s", node=hung["node"]))
        elif kind == "connected":
            phrases.append(_("verbunden mit %(who)s", who=label))
        elif kind == "callback":
            phrases.append(_("Rückruf gebucht (%(who)s)", who=label))
        elif kind == "emergency":
            phrases.append(_("Notfall"))
        elif kind == "service_unavailable":
            phrases.append(_("%(what)s hier nicht verfügbar", what=label))
        elif kind == "service_closed":
            phrases.append(_("%(what)s geschlossen", what=label))
        elif kind == "dial_failed":
            phrases.append(_("Verbindung fehlgeschlagen (%(why)s)", why=detail))
        elif kind.endswith("_exhausted"):
            phrases.append(_("keine passende Eingabe in %(node)s", node=detail))
        elif kind == "error":
            phrases.append(_("Fehler: %(what)s", what=detail))
        else:
            phrases.append(part)
    return phrases


def shown_number(number: str | None) -> str:
    """Admins see the whole number, staff a masked one."""
    if not number:
        return "–"
    return number if current_user.is_admin else mask(number)


@bp.get("/calls")
def calls():
    """Recent calls, and per menu node how many callers hung up there in the last 30 days."""
    db = db_read()
    limit = min(max(request.args.get("limit", 100, type=int), 1), 1000)
    rows = list(db.scalars(select(Call).options(selectinload(Call.tenant)).order_by(Call.started_at.desc())
                           .limit(limit)))
    return render_template("console/calls.html", title=_("Anrufe"), rows=rows, describe=describe_outcome,
                           number=shown_number, drop_off=drop_off(db, now_utc()), days=DROP_OFF_DAYS)


def drop_off(db, now) -> list[dict]:
    """For each node where someone hung up: calls that reached it, calls that ended there, the share."""
    since = now - timedelta(days=DROP_OFF_DAYS)
    ended = Counter()
    for outcome in db.scalars(select(Call.outcome).where(Call.started_at >= since, Call.outcome.like("%hung up at%"))):
        for match in HUNG_UP.finditer(outcome):
            if match["waiting"] == "menu":  # lost in a menu; after a booking, hanging up is the way out
                ended[match["node"]] += 1
    if not ended:
        return []
    reached = dict(db.execute(
        select(CallEvent.node, func.count(distinct(CallEvent.call_id))).join(Call)
        .where(Call.started_at >= since, CallEvent.node.in_(list(ended))).group_by(CallEvent.node)).all())
    rows = []
    for node, count in ended.most_common():
        total = max(reached.get(node, 0), count)
        rows.append({"node": node, "ended": count, "reached": total, "share": round(100 * count / total)})
    return rows


@bp.get("/calls/<int:call_id>")
def call(call_id: int):
    """One call: who, when, how long, and its audit trail as a timeline."""
    db = db_read()
    call = db.get(Call, call_id)
    if call is None:
        abort(404)
    tenant: Tenant | None = call.tenant
    return render_template("console/call.html", title=_("Anruf vom %(when)s", when=local_time(call.started_at)), call=call, tenant=tenant,
                           events=call.events, describe=describe_outcome, number=shown_number,
                           event_label=lambda kind: _(EVENT_LABELS.get(kind, kind)))
