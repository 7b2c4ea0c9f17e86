"""GET /healthz: can this process answer calls, and is anything wrong that an operator should fix?

503 only when this process cannot answer calls: no database answer within two seconds (even when
the database hangs: the check runs in its own thread) or no usable flow at all. Otherwise 200,
with "status": "ok" only when every flow file loaded cleanly and is what calls get, the worker
has run lately, no SMS is held or undeliverable and (with Matrix) the worker last found the homeserver
and every configured room usable; else "status": "degraded" and the list of problems. /metrics shows the same problems (ivr.web.metrics), and so can the console.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import func, select, text

from ivr.wiring import hausruf

bp = Blueprint("health", __name__)
DATABASE_WAIT_SECONDS = 1.5  # the whole answer, HTTP included, within 2 s (tests/twilio/test_postgres_server.py)
UNDELIVERABLE_DAYS = 7  # SMS that failed this recently are a problem worth showing
STUCK_SMS_MINUTES = 15  # a queued SMS older than this, with credentials set, is not going out
# A tenant heard "sent": a message to the neighbours confirmed longer ago than this has not reached the room.
WAITING_POST_MINUTES = 5
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")
_inflight: dict[int, Future] = {}  # one database check per app at a time, however many monitors ask
_inflight_lock = threading.Lock()


@dataclass
class Health:
    """What /healthz reports; `problems` are sentences an operator can act on."""

    serving: bool = True  # False: this process cannot answer calls (503)
    problems: list[str] = field(default_factory=list)
    flows: list[dict] = field(default_factory=list)
    database: str = "ok"
    facts: "DatabaseFacts | None" = None
    sip: dict | None = None  # the SIP line on this machine (ivr.telephony.sip.status), None without one
    matrix: dict | None = None  # the homeserver and rooms as the worker last found them, None without Matrix

    @property
    def status(self) -> str:
        if not self.serving:
            return "down"
        return "degraded" if self.problems else "ok"

    def as_json(self) -> dict:
        found = {"status": self.status, "database": self.database, "problems": self.problems, "flows": self.flows}
        found = {**found, "sip": self.sip} if self.sip is not None else found
        return {**found, "matrix": self.matrix} if self.matrix is not None else found


@dataclass
class DatabaseFacts:
    """What the database says, read in one short read-only session."""

    worker_ran_at: datetime | None = None
    held_sms: int = 0
    stuck_sms: int = 0
    undeliverable_sms: int = 0
    tasks_by_state: dict[str, int] = field(default_factory=dict)
    sms_by_status: dict[str, int] = field(default_factory=dict)
    matrix: list | None = None  # ivr.telephony.matrix.reach.Reach of each thing Matrix needs, None without Matrix
    waiting_house_messages: int = 0  # confirmed messages to the neighbours not yet in their house room


def health(app: Flask, now: datetime | None = None) -> Health:
    """The health of this process: flows from memory, the rest from the database within two seconds."""
    settings = app.config["HAUSRUF"]
    now = now or datetime.now(timezone.utc)
    report = Health()
    _flow_health(app, settings, report)
    _sip_health(settings, report)
    try:
        facts = _database_facts(app, now).result(timeout=DATABASE_WAIT_SECONDS)
    except FutureTimeout:
        report.serving = False
        report.database = f"no answer within {DATABASE_WAIT_SECONDS:g} s"
        report.problems.insert(0, f"the database did not answer within {DATABASE_WAIT_SECONDS:g} s: calls fall back "
                                  "to staff")
        return report
    except Exception as exc:  # noqa: BLE001 - report, never raise, from a health check
        report.serving = False
        report.database = f"error: {type(exc).__name__}"
        report.problems.insert(0, f"the database cannot be used ({type(exc).__name__}): calls fall back to staff")
        return report
    report.facts = facts
    _worker_health(settings, facts, now, report)
    _sms_health(settings, facts, report)
    _matrix_health(settings, facts, now, report)
    if facts.waiting_house_messages:
        why = ("the house chat is not configured (HAUSRUF_MATRIX_HOMESERVER)" if facts.matrix is None
               else "see the worker log")
        report.problems.append(f"messages to the neighbours confirmed by tenants but not posted for "
                               f"{WAITING_POST_MINUTES} minutes: {facts.waiting_house_messages} ({why})")
    return report


def _sip_health(settings, report: Health) -> None:
    """The SIP line's registration, from the status file `hausruf sip` keeps."""
    from ivr.telephony.sip.status import sip_health

    report.sip, healthy = sip_health(settings.data_dir)
    if not healthy:
        report.problems.append(report.sip.get("error") or f"the SIP line is not registered at "
                               f"{report.sip['registrar']} ({report.sip['registration'] or 'no answer'}): "
                               "no calls come in from the trunk")


def _flow_health(app: Flask, settings, report: Health) -> None:
    live = hausruf(app).flows
    flowset = live.current()
    for status in flowset.status():
        entry = {"file": status.path, "flow": ":".join(status.key) if status.key else None,
                 "serving": status.serving.revision if status.serving else None,
                 "file_revision": status.file_revision, "ok": status.ok}
        report.flows.append(entry)
        if status.note:
            report.problems.append(status.note)
    if not flowset.flows():
        report.serving = False
        report.problems.insert(0, f"no usable flow in {settings.flows_dir}: every call falls back to staff")
        return
    try:
        flowset.get(settings.flow_name, settings.default_language)
    except KeyError:
        report.problems.append(f"no flow '{settings.flow_name}' in language '{settings.default_language}' "
                               f"(HAUSRUF_FLOW, HAUSRUF_LANGUAGE): those calls fall back to staff")
    if flowset.unsaved:
        report.problems.append("flow revisions could not be stored in the database yet (tried again every check)")


def _database_facts(app: Flask, now: datetime) -> Future:
    """Read the facts in a worker thread; a check still running is shared, not started again."""
    key = id(app)
    with _inflight_lock:
        running = _inflight.get(key)
        if running is not None and not running.done():
            return running
        future = _executor.submit(_read_facts, app, now)
        _inflight[key] = future
        return future


def _read_facts(app: Flask, now: datetime) -> DatabaseFacts:
    from ivr.wiring import hausruf as wiring_of
    from ivr.db.models import CallbackTask, HouseMessage, SmsMessage, WorkerHeartbeat

    facts = DatabaseFacts()
    with wiring_of(app).read_sessions() as session:
        session.execute(text("SELECT 1"))
        facts.worker_ran_at = session.scalar(select(func.max(WorkerHeartbeat.ran_at)))
        outbound = (SmsMessage.direction == "outbound")
        facts.held_sms = session.scalar(select(func.count()).where(outbound, SmsMessage.status == "queued",
                                                                   SmsMessage.channel == "sms")) or 0
        facts.stuck_sms = session.scalar(select(func.count()).where(
            outbound, SmsMessage.status.in_(("queued", "sending")),
            SmsMessage.created_at < now - timedelta(minutes=STUCK_SMS_MINUTES))) or 0
        facts.undeliverable_sms = session.scalar(select(func.count()).where(
            outbound, SmsMessage.status.in_(("failed", "undelivered")),
            SmsMessage.created_at >= now - timedelta(days=UNDELIVERABLE_DAYS))) or 0
        facts.tasks_by_state = dict(session.execute(select(CallbackTask.state, func.count())
                                                    .group_by(CallbackTask.state)).all())
        facts.sms_by_status = dict(session.execute(select(SmsMessage.status, func.count()).where(outbound)
                                                   .group_by(SmsMessage.status)).all())
        facts.matrix = _matrix_reach(app.config["HAUSRUF"], session, now)
        facts.waiting_house_messages = session.scalar(select(func.count()).where(
            HouseMessage.status == "confirmed",
            HouseMessage.confirmed_at < now - timedelta(minutes=WAITING_POST_MINUTES))) or 0
    if isinstance(facts.worker_ran_at, str):  # func.max() bypasses the column type on SQLite
        facts.worker_ran_at = datetime.fromisoformat(facts.worker_ran_at)
    if facts.worker_ran_at is not None and facts.worker_ran_at.tzinfo is None:
        facts.worker_ran_at = facts.worker_ran_at.replace(tzinfo=timezone.utc)
    return facts


def _worker_health(settings, facts: DatabaseFacts, now: datetime, report: Health) -> None:
    stale = timedelta(minutes=settings.worker_stale_minutes)
    if facts.worker_ran_at is None:
        report.problems.append("the worker has never run (start `hausruf worker`): no SMS, offers or escalations")
    elif now - facts.worker_ran_at > stale:
        minutes = int((now - facts.worker_ran_at).total_seconds() // 60)
        report.problems.append(f"the worker has not run for {minutes} minutes (last at "
                               f"{facts.worker_ran_at:%Y-%m-%d %H:%M} UTC): no SMS, offers or escalations")


def sms_held(settings) -> bool:
    """Without Twilio credentials no SMS can be sent: they wait in the outbox."""
    return not (settings.twilio_account_sid and settings.twilio_auth_token)


def _sms_health(settings, facts: DatabaseFacts, report: Health) -> None:
    if sms_held(settings) and facts.held_sms:
        report.problems.append(f"{facts.held_sms} SMS held in the outbox until TWILIO_ACCOUNT_SID and "
                               "TWILIO_AUTH_TOKEN are set")
    elif facts.stuck_sms:
        report.problems.append(f"{facts.stuck_sms} SMS waiting longer than {STUCK_SMS_MINUTES} minutes to go out")
    if facts.undeliverable_sms:
        report.problems.append(f"{facts.undeliverable_sms} SMS could not be delivered in the last "
                               f"{UNDELIVERABLE_DAYS} days (see `hausruf tasks`)")


def _matrix_reach(settings, session, now: datetime) -> list | None:
    """What the worker recorded about the homeserver and the rooms (ivr.telephony.matrix.reach)."""
    from ivr.telephony.matrix.reach import read_reach
    from ivr.telephony.matrix.settings import MatrixSettings

    matrix = settings.group(MatrixSettings)
    return read_reach(session, matrix.homeserver, matrix.helpers_room, now) if matrix.enabled else None


def _matrix_health(settings, facts: DatabaseFacts, now: datetime, report: Health) -> None:
    """Matrix rooms that cannot be read or written, and a homeserver that does not answer, as the worker saw them.

    "unknown" (never checked, or not lately) is a problem only while the worker runs: when it does not,
    the worker's own problem above says why nothing is known.
    """
    if facts.matrix is None:
        return
    homeserver, *rooms = facts.matrix
    report.matrix = {"homeserver": homeserver.as_json(), "rooms": [room.as_json() for room in rooms]}
    worker_runs = (facts.worker_ran_at is not None
                   and now - facts.worker_ran_at <= timedelta(minutes=settings.worker_stale_minutes))
    for reach in facts.matrix:
        if reach.state == "failed" or (reach.state == "unknown" and worker_runs):
            report.problems.append(reach.sentence())


@bp.get("/healthz")
def healthz():
    """Liveness and readiness in one: what an operator's monitor or a load balancer asks."""
    from speech.service import status as speech_status

    report = health(current_app._get_current_object())
    speech = speech_status(current_app.config["HAUSRUF"].vosk_models)  # keeps to menu grammars, or free text
    body = {**report.as_json(), **({"speech": speech} if speech else {})}
    return jsonify(body), (503 if not report.serving else 200)
