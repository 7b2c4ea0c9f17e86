"""GET /: open tasks by age, today's calls, and everything that needs attention."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from sqlalchemy import func, or_, select

from ivr.calls.spool import spool_path
from ivr.console.web import _, bp, db_read, local_time, now_utc
from ivr.console.workers import FORGET_AFTER, worker_machines
from ivr.db.models import Call, CallbackTask, SmsMessage
from ivr.tasks.states import ACTIVE
from ivr.wiring import hausruf

AGE_BUCKETS = ((timedelta(hours=1), "unter 1 Stunde"), (timedelta(hours=24), "1 bis 24 Stunden"),
               (timedelta(days=3), "1 bis 3 Tage"), (None, "älter als 3 Tage"))
WORKER_LATE = timedelta(minutes=5)  # the worker sweeps every minute; this late, a job is overdue


@bp.get("/")
def overview():
    """The start page after sign-in."""
    db = read = db_read()
    now = now_utc()
    settings = current_app.config["HAUSRUF"]
    tasks = list(read.scalars(select(CallbackTask).where(CallbackTask.state.in_(ACTIVE + ("expired",)))
                              .order_by(CallbackTask.created_at)))
    buckets = []
    for limit, label in AGE_BUCKETS:
        lower = buckets[-1][2] if buckets else timedelta(0)
        count = sum(1 for t in tasks if (now - t.created_at) >= lower and (limit is None or now - t.created_at < limit))
        buckets.append((_(label), count, limit or timedelta.max))
    zone = ZoneInfo(settings.timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    calls_today = list(db.scalars(select(Call).where(Call.started_at >= midnight).order_by(Call.started_at.desc())))
    return render_template("console/overview.html", title=_("Übersicht"), tasks=tasks, buckets=buckets,
                           calls_today=calls_today, attention=attention(db, now), now=now)


def attention(db, now: datetime) -> list[tuple[str, str, str | None]]:
    """(severity, text, link) for what staff should look at: flows, SMS, the worker, missed calls."""
    from flask import url_for

    items: list[tuple[str, str, str | None]] = []
    flowset = hausruf(current_app).flows.current()
    errors = [p for p in flowset.problems if p.severity == "error"]
    if errors:
        items.append(("error", _("%(n)s Fehler in Ablauf-Dateien: Anrufe nutzen die letzte fehlerfreie Fassung.",
                                 n=len(errors)), url_for("console.flows")))
    if not flowset.flows():
        items.append(("error", _("Kein Ablauf geladen: Anrufe gehen direkt an das Büro."), url_for("console.flows")))
    failed = db.scalar(select(func.count()).select_from(SmsMessage).where(
        SmsMessage.status.in_(("failed", "undelivered")), SmsMessage.created_at >= now - timedelta(days=7)))
    if failed:
        items.append(("error", _("%(n)s SMS konnten in den letzten 7 Tagen nicht zugestellt werden.", n=failed),
                      url_for("console.tasks", show="sms_failed")))
    items += worker_attention(db, now)
    items += matrix_attention(db, now)
    missed = spooled_calls(current_app.config["HAUSRUF"].data_dir)
    if missed:
        items.append(("warning", _("%(n)s verpasste Anrufe warten im Zwischenspeicher (die Datenbank war nicht "
                                   "erreichbar); der Hintergrunddienst legt Rückruf-Aufgaben dafür an.", n=missed),
                      None))
    escalated = db.scalar(select(func.count()).select_from(CallbackTask).where(
        CallbackTask.state.in_(("escalated", "expired"))))
    if escalated:
        items.append(("warning", _("%(n)s Aufgaben warten auf das Büro (eskaliert oder abgelaufen).", n=escalated),
                      url_for("console.tasks", state="staff")))
    return items


def worker_attention(db, now: datetime) -> list[tuple[str, str, str | None]]:
    """The worker from its heartbeats: never ran, stopped (since when), stopped on one machine, or behind."""
    stale = timedelta(minutes=current_app.config["HAUSRUF"].worker_stale_minutes)
    machines = worker_machines(db, now, stale)
    consequence = _("Solange gehen keine SMS hinaus, und Rückruf-Aufgaben werden nicht weitergegeben.")
    if not machines:
        return [("error", _("Der Hintergrunddienst (hausruf worker) ist noch nie gelaufen.") + " " + consequence
                 + " " + _("Bitte sagen Sie Ihrer IT Bescheid."), None)]
    if not any(m.running for m in machines):
        last = machines[0].last_ran_at
        return [("error", _("Der Hintergrunddienst (hausruf worker) ist gestoppt: Er lief zuletzt am %(when)s "
                            "(%(ago)s).", when=_when(last), ago=ago(now - last)) + " " + consequence
                 + " " + _("Bitte sagen Sie Ihrer IT Bescheid."), None)]
    items = [("warning", _("Der Hintergrunddienst auf dem Rechner %(host)s ist gestoppt: Er lief dort zuletzt am "
                           "%(when)s (%(ago)s). Auf den anderen Rechnern läuft er weiter.", host=m.host,
                           when=_when(m.last_ran_at), ago=ago(now - m.last_ran_at)), None)
             for m in machines if not m.running and now - m.last_ran_at <= FORGET_AFTER]
    late = now - WORKER_LATE
    waiting_sms = db.scalar(select(func.count()).select_from(SmsMessage).where(
        SmsMessage.status == "queued", or_(SmsMessage.next_attempt_at.is_(None), SmsMessage.next_attempt_at <= late),
        SmsMessage.created_at <= late))
    overdue = db.scalar(select(func.count()).select_from(CallbackTask).where(
        CallbackTask.next_step_at <= late, CallbackTask.state.in_(ACTIVE)))
    if waiting_sms or overdue:
        items.append(("error", _("Der Hintergrunddienst läuft, kommt aber nicht nach: %(sms)s SMS warten und "
                                 "%(steps)s Aufgaben-Schritte sind seit über 5 Minuten fällig.",
                                 sms=waiting_sms, steps=overdue), None))
    return items


def matrix_attention(db, now: datetime) -> list[tuple[str, str, str | None]]:
    """The cooperative's chat as the worker last found it (ivr.telephony.matrix.reach): what cannot be used."""
    from ivr.telephony.matrix.reach import read_reach
    from ivr.telephony.matrix.settings import MatrixSettings

    matrix = current_app.config["HAUSRUF"].group(MatrixSettings)
    if not matrix.enabled:
        return []
    items: list[tuple[str, str, str | None]] = []
    for reach in read_reach(db, matrix.homeserver, matrix.helpers_room, now):
        if reach.kind == "unreadable":
            items.append(("warning", _("Chat: Im Raum %(room)s kam am %(when)s eine verschlüsselte Nachricht, die "
                                       "der Hausruf nicht lesen kann (siehe README, Matrix).", room=reach.address,
                                       when=_when(reach.checked_at)), None))
            continue
        what = {"homeserver": _("Der Chat-Server %(room)s", room=reach.address),
                "helpers_room": _("Der Raum der IT-Helfer %(room)s", room=reach.address),
                "house_room": _("Der Haus-Chat %(room)s (%(house)s)", room=reach.address, house=reach.house)
                }[reach.kind]
        if reach.state == "failed":
            consequence = (_("Aufgaben erreichen die Helfer im Chat solange nicht.") if reach.kind == "homeserver"
                           else _("Der Hausruf kann dort weder lesen noch schreiben."))
            items.append(("error", _("%(what)s ist nicht erreichbar: %(why)s.", what=what, why=reach.error) + " "
                          + consequence + " " + _("Bitte sagen Sie Ihrer IT Bescheid."), None))
        elif reach.state == "unknown" and reach.checked_at is not None:
            # Never checked yet is no news (a new room, a worker just started); not checked lately is.
            items.append(("warning", _("%(what)s wurde seit %(when)s nicht mehr geprüft: ob der Hausruf ihn "
                                       "erreicht, ist unbekannt.", what=what, when=_when(reach.checked_at)), None))
    return items


def _when(moment: datetime) -> str:
    """'04.03.2026 um 09:48 Uhr' in the cooperative's time zone."""
    return local_time(moment, _("%d.%m.%Y um %H:%M Uhr"))


def ago(delta: timedelta) -> str:
    """'vor 12 Minuten', 'vor 3 Stunden', 'vor 2 Tagen'."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 2:
        return _("vor einer Minute")
    if minutes < 120:
        return _("vor %(n)s Minuten", n=minutes)
    if minutes < 48 * 60:
        return _("vor %(n)s Stunden", n=minutes // 60)
    return _("vor %(n)s Tagen", n=minutes // (24 * 60))


def spooled_calls(data_dir) -> int:
    """Missed calls written to the spool while the database was down, not yet booked."""
    path = spool_path(data_dir)
    count = 0
    for file in (path, path.with_suffix(".claimed")):
        if file.exists():
            count += sum(1 for line in file.read_text(encoding="utf-8").splitlines() if line.strip())
    return count
