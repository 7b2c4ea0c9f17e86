"""/simulator: a call in the browser with the engine and contexts of `hausruf call`; books and sends nothing.

The call lives in the page, not on the server: each form carries the call so far, signed with the
app's secret key (so it cannot be altered), and each press of a key is one POST. The flow revision
is kept, so an edit of the flow during a simulated call does not change it halfway.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ivr.console.web import _, bp, db_read, now_utc
from ivr.db.models import Tenant
from ivr.directory.phones import normalise
from ivr.directory.routing import build_context
from ivr.engine import CallState, advance
from ivr.engine.actions import Ask, BookCallback, Dial, Hangup, Outcome, Poll, Record, Say
from ivr.engine.events import DIAL_OUTCOMES, CallStarted, MessageTranscribed
from ivr.simulator.inputs import InputError, event_for_line
from ivr.wiring import hausruf

AUDIENCES = {"volunteers": "die IT-Helfer des Hauses", "staff": "das Büro"}
DIAL_LABELS = {"completed": "angenommen", "busy": "besetzt", "no-answer": "keine Antwort", "failed": "Fehler"}
UNKNOWN = "unknown"
MAX_LOG = 200


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="hausruf.simulator")


@bp.route("/simulator", methods=["GET", "POST"])
def simulator():
    """Start form (caller and time), then the call: keypad, a spoken word, silence, dial results, messages."""
    db = db_read()
    settings = current_app.config["HAUSRUF"]
    zone = ZoneInfo(settings.timezone)
    tenants = list(db.scalars(select(Tenant).options(selectinload(Tenant.phones), selectinload(Tenant.house))
                              .order_by(Tenant.last_name, Tenant.first_name)))
    flows = _flows().flows()
    local_now = now_utc().astimezone(zone)
    form = {"caller": request.form.get("caller", ""), "number": request.form.get("number", ""),
            "date": request.form.get("date", local_now.strftime("%Y-%m-%d")),
            "time": request.form.get("time", local_now.strftime("%H:%M")),
            "flow": request.form.get("flow", settings.flow_name)}
    page = dict(title=_("Anruf ausprobieren"), tenants=tenants, flows=flows, form=form, call=None, error=None,
                dial_outcomes=DIAL_LABELS)
    if request.method == "GET":
        return render_template("console/simulator.html", **page)
    try:
        if request.form.get("sim"):
            call = _continue(db, request.form)
        else:
            call = _start(db, form, zone)
    except SimulatorInputError as exc:
        page["error"] = str(exc)
        return render_template("console/simulator.html", **page), 422
    page["call"] = call
    page["token"] = _serializer().dumps(call)
    return render_template("console/simulator.html", **page)


class SimulatorInputError(ValueError):
    """A start form or an input the simulator cannot use, in words for the page."""


def _flows():
    return hausruf(current_app).flows.current()


def _start(db, form: dict, zone: ZoneInfo) -> dict:
    settings = current_app.config["HAUSRUF"]
    raw = form["number"].strip() if form["caller"] in ("", UNKNOWN) else form["caller"]
    if not raw:
        raise SimulatorInputError(_("Bitte wählen Sie eine Person aus dem Verzeichnis oder geben Sie eine Nummer ein."))
    try:
        number = normalise(raw)
    except ValueError as exc:
        raise SimulatorInputError(_("Die Nummer %(raw)s ist keine Telefonnummer: %(why)s", raw=raw, why=exc)) from None
    try:
        when = datetime.strptime(f"{form['date']} {form['time']}", "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    except ValueError:
        raise SimulatorInputError(_("Datum und Uhrzeit bitte wie 2026-03-04 und 10:00 angeben.")) from None
    context = build_context(db, number, when.astimezone(timezone.utc), settings)
    try:
        flow = _flows().get(form["flow"], context.caller.language or settings.default_language,
                            settings.default_language)
    except KeyError:
        raise SimulatorInputError(_("Den Ablauf %(name)s gibt es nicht.", name=form["flow"])) from None
    caller = context.caller
    who = (f"{caller.salutation or caller.first_name} ({caller.house_name}, {caller.region_name})" if caller.known
           else _("unbekannte Nummer"))
    call = {"flow": flow.name, "revision": flow.revision, "number": number, "at": when.isoformat(),
            "state": CallState().to_dict(), "log": [["info", _("Anruf von %(who)s, %(when)s", who=who,
                                                                 when=when.strftime("%d.%m.%Y %H:%M"))]]}
    return _step(db, call, flow, context, CallStarted(), None)


def _continue(db, values) -> dict:
    try:
        call = _serializer().loads(values["sim"])
    except BadSignature:
        raise SimulatorInputError(_("Dieser simulierte Anruf ist nicht mehr gültig; bitte neu beginnen.")) from None
    settings = current_app.config["HAUSRUF"]
    flow = _flows().by_revision(call["revision"])
    if flow is None:
        raise SimulatorInputError(_("Die Fassung des Ablaufs gibt es nicht mehr; bitte neu beginnen."))
    state = CallState.from_dict(call["state"])
    if state.finished:
        raise SimulatorInputError(_("Der Anruf ist schon beendet; bitte neu beginnen."))
    when = datetime.fromisoformat(call["at"])
    context = build_context(db, call["number"], when.astimezone(timezone.utc), settings)
    line, shown = _input_line(values, state.waiting)
    try:
        event = event_for_line(line, _waiting_action(state.waiting))
    except InputError as exc:
        raise SimulatorInputError(str(exc)) from None
    return _step(db, call, flow, context, event, shown)


def _input_line(values, waiting: str | None) -> tuple[str, str]:
    """The typed line `hausruf call` would read for this form, and how the caller's step is shown."""
    if "hangup" in values:
        return "hangup", _("Anrufer legt auf.")
    if "silence" in values:
        return "", _("Anrufer sagt nichts.")
    if waiting == "dial":
        outcome = values.get("dial", "completed")
        return outcome, _("Gespräch: %(how)s", how=_(DIAL_LABELS.get(outcome, outcome)))
    if waiting == "record":
        message = values.get("message", "").strip()
        return message, (_("Anrufer spricht: „%(text)s“", text=message) if message else _("Anrufer sagt nichts"))
    if values.get("key"):
        return values["key"], _("Anrufer drückt %(key)s.", key=values["key"])
    word = values.get("word", "").strip()
    if not word:
        return "", _("Anrufer sagt nichts")
    return word, _("Anrufer sagt „%(word)s“", word=word)


def _waiting_action(waiting: str | None):
    """What event_for_line needs to know about the wait: a dial, a recording, or a menu."""
    if waiting == "dial":
        return Dial(node="", target="", numbers=(), whisper="", language="", timeout_seconds=0)
    if waiting == "record":
        return Record(node="", max_seconds=0, language="")
    return None


def _step(db, call: dict, flow, context, event, shown: str | None) -> dict:
    state = CallState.from_dict(call["state"])
    new_state, actions = advance(flow, state, event, context)
    if any(isinstance(a, Poll) for a in actions) and not new_state.finished:
        # A message to the neighbours waits for the worker's transcript: here the typed words, at once.
        draft = new_state.draft or ""
        new_state, more = advance(flow, new_state, MessageTranscribed(draft, draft.removeprefix("simulated:")), context)
        actions = actions + more
    log = list(call["log"])
    if shown:
        log.append(["caller", shown])
    for action in actions:
        log.extend(_describe(action))
    call = {**call, "state": new_state.to_dict(), "log": log[-MAX_LOG:]}
    return call


def _describe(action) -> list[list]:
    """Log lines for one action: ["hears", text, audio URL or ""], ["does", text], ["result", text]."""
    if isinstance(action, (Say, Ask)):
        lines = [["hears", segment, _audio_url(segment, action.language)] for segment in action.segments]
        if isinstance(action, Ask):
            words = ", ".join(action.phrases)
            lines.append(["does", _("Die Hotline wartet auf eine Taste (%(keys)s) oder ein Wort (%(words)s), "
                                    "%(seconds)s Sekunden.", keys=" ".join(action.keys), words=words,
                                    seconds=action.timeout_seconds)])
        return lines
    if isinstance(action, Dial):
        lines = [["does", _("Die Hotline verbindet mit %(target)s; es klingelt bis zu %(seconds)s Sekunden.",
                            target=action.target, seconds=action.timeout_seconds)]]
        if action.whisper:
            lines.append(["does", _("Ansage an die Angerufenen: %(text)s", text=action.whisper)])
        return lines
    if isinstance(action, Record):
        return [["does", _("Die Hotline nimmt eine Nachricht auf (bis zu %(seconds)s Sekunden).",
                           seconds=action.max_seconds)]]
    if isinstance(action, BookCallback):
        return [["result", _("Rückruf für %(who)s: %(topic)s. (Im Simulator wird nichts gebucht und keine SMS "
                             "gesendet.)", who=_(AUDIENCES.get(action.audience, action.audience)),
                             topic=action.topic)]]
    if isinstance(action, Hangup):
        return [["does", _("Die Hotline legt auf.")]]
    if isinstance(action, Outcome):
        return [["result", _("Ergebnis: %(kind)s %(detail)s", kind=action.kind, detail=action.detail)]]
    return [["does", repr(action)]]


def _audio_url(text: str, language: str) -> str:
    """The rendered prompt's URL when its audio exists; the page shows the text either way."""
    renderer = hausruf(current_app).prompt_renderer
    if renderer is None:
        return ""
    try:
        path = renderer.path_for(text, language)
    except Exception:  # noqa: BLE001 - a prompt without audio is shown as text
        return ""
    if not path.is_file():
        return ""
    from ivr.web.prompts import prompt_path

    # The same keyed (unguessable) path the TwiML renderer gives Twilio.
    return prompt_path(hausruf(current_app).prompt_url.secret, language, path.name)


__all__ = ["DIAL_OUTCOMES", "simulator"]
