"""One webhook, one engine step: read the call by CallSid, advance, store state, events and effects.

Provider-neutral: the Twilio webhooks (and a future SIP adapter) call start() and handle() with
engine events and render the returned actions themselves.

A step reads the call (one SELECT), decides with the pure engine, and only then takes the write
lock to store the result with UPDATE ... WHERE version = <the version it read>; that one statement
also writes the step's audit event, through a database trigger (migration 0004). Nothing
slow happens under the lock, so webhooks of different calls decide side by side; when two webhooks
of the same call race (a key press and a spoken word), the second finds the version moved on and
decides again on the new state, where its step is stale and only repeats what the call waits for.

The call's own rows go through ivr.calls.store (statements compiled once, one pooled connection);
the ORM is used where it earns its keep: building a caller's context on a cache miss (read
session) and booking callbacks (write session, whose commit also wakes the SMS worker).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable, ContextManager

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.calls.store import CallStore, StoredCall
from ivr.config import Settings
from ivr.db.models import Call, TenantPhone
from ivr.directory.phones import mask
from ivr.engine import CallContext, CallStarted, CallState, Resume, advance
from ivr.engine.actions import Action, BookCallback, Hangup, Outcome
from ivr.engine.events import Event
from ivr.flows.model import Flow
from ivr.housing.actions import HOUSING_EFFECTS
from ivr.numbers import flow_for

log = logging.getLogger("hausruf.calls")

# Books a callback task (and its SMS) in the session of the webhook, so both commit together.
Booker = Callable[[Session, Call, BookCallback, CallContext, datetime], object]
# (open_session, caller number, now, settings): open_session() gives a session, called only if needed.
ContextBuilder = Callable[[Callable[[], Session], str | None, datetime, Settings], CallContext]
# write_lock(transaction=True) around a write transaction; transaction=False around one autocommit
# statement (ivr.db.writers.sqlite_writer).
WriteLock = Callable[..., ContextManager]

# Each failed attempt means another webhook of the call was stored meanwhile; a call has a handful
# at most (key, word, status, a retry). A version that moves more often than this is a loop
# elsewhere: the webhook gives up and the caller gets the staff fallback.
DECIDE_ATTEMPTS = 10
# Actions written in the step's transaction by the booker (callbacks; housing counts, seekers, SMS).
EFFECTS = (BookCallback, *HOUSING_EFFECTS)

class CallChangedMeanwhile(RuntimeError):
    """The call changed under every attempt to store a step (see DECIDE_ATTEMPTS)."""


@dataclass(frozen=True)
class StepResult:
    """What to render: the actions, the step they belong to, and the flow language."""

    actions: list[Action]
    step: int
    language: str
    node: str | None
    stale: bool = False
    revision: str = ""
    after_menu: bool = False  # the call waited in a menu before this step (a media stream may be running)


@dataclass
class _Decision:
    """An engine step decided but not stored yet."""

    call: StoredCall
    context: CallContext
    changes: dict  # the call's new columns, its audit event (last_event_*) among them
    bookings: list[BookCallback]
    result: StepResult


class CallHandler:
    """Runs engine steps for calls stored in the database; one instance per request.

    open_session gives the request's writing session (bookings), open_reader its read-only one
    (contexts); most steps need neither, so they are opened only when used.
    """

    def __init__(self, engine: Engine, open_session: Callable[[], Session], open_reader: Callable[[], Session],
                 settings: Settings, flows, build_context: ContextBuilder, book_callback: Booker | None,
                 now: datetime, write_lock: WriteLock = lambda transaction=True: contextlib.nullcontext()):
        self.engine = engine
        self._open_session = open_session
        self._open_reader = open_reader
        self._reader: Session | None = None
        self.settings = settings
        self.flows = flows
        self.build_context = build_context
        self.book_callback = book_callback
        self.now = now
        self.write_lock = write_lock

    @property
    def session(self) -> Session:
        """The request's writing session."""
        return self._open_session()

    @property
    def reader(self) -> Session:
        """The request's read-only session, opened on first use."""
        if self._reader is None:
            self._reader = self._open_reader()
        return self._reader

    def start(self, call_sid: str, from_number: str | None, to_number: str | None = None) -> StepResult:
        """An incoming call: the called number picks the flow (HAUSRUF_NUMBERS), the caller's language its file."""
        with contextlib.closing(CallStore(self.engine)) as store:
            if store.read(call_sid) is not None:  # Twilio retried the incoming-call webhook
                return self.handle(call_sid, Resume(), None, "resume", "")
            with self._reading():
                context = self.build_context(lambda: self.reader, from_number, self.now, self.settings)
                tenant_id = self._tenant_id(context.caller.number)
            language = context.caller.language or self.settings.default_language
            name = flow_for(self.settings.numbers, self.settings.flow_name, to_number)
            flow = self.flows.get(name, language, self.settings.default_language)
            call = StoredCall(None, call_sid, context.caller.number or from_number, flow.name, flow.language,
                              flow.revision, {}, tenant_id=tenant_id)
            decision = self._decide(call, flow, CallState(), CallStarted(), context, "start", "")
            try:
                self._store(store, decision)
            except IntegrityError:  # the same call started in another worker a moment ago
                return self.handle(call_sid, Resume(), None, "resume", "")
        log.info("call %s from %s starts flow %s@%s", call_sid, mask(from_number or ""), flow.key, flow.revision)
        return decision.result

    def handle(self, call_sid: str, event: Event, expected_step: int | None, kind: str, detail: str) -> StepResult:
        """A later webhook of a call; a post for an older step only repeats what the call waits on."""
        with contextlib.closing(CallStore(self.engine)) as store:
            for _ in range(DECIDE_ATTEMPTS):
                call = store.read(call_sid)
                if call is None:
                    log.warning("webhook for unknown call %s: starting it afresh", call_sid)
                    return self.start(call_sid, None)
                with self._reading():
                    context = self.build_context(lambda: self.reader, call.from_number, self.now, self.settings)
                decision = self._decide_webhook(call, event, expected_step, kind, detail, context)
                if self._store(store, decision):
                    return decision.result
                log.info("call %s changed while its %s was decided: deciding again", call_sid, kind)
        raise CallChangedMeanwhile(f"call {call_sid} changed under {DECIDE_ATTEMPTS} attempts to store a step")

    def _decide_webhook(self, call: StoredCall, event: Event, expected_step: int | None, kind: str, detail: str,
                        context: CallContext) -> _Decision:
        state = CallState.from_dict(call.state)
        flow = self._flow_of(call)
        if expected_step is not None and expected_step != state.steps:
            # A key press and a spoken word raced, or Twilio retried: the first one won.
            log.info("call %s: stale %s for step %s (now %s)", call.call_sid, kind, expected_step, state.steps)
            decision = self._decide(call, flow, state, Resume(), context, f"stale-{kind}", detail)
            decision.result = replace(decision.result, stale=True)
            return decision
        return self._decide(call, flow, state, event, context, kind, detail)

    def _flow_of(self, call: StoredCall) -> Flow:
        # A call finishes on the revision it began with, even if staff edited the flow meanwhile.
        flow = self.flows.by_revision(call.flow_revision)
        if flow is None:
            flow = self.flows.get(call.flow_name, call.flow_language, self.settings.default_language)
        return flow

    def _decide(self, call: StoredCall, flow: Flow, state: CallState, event: Event, context: CallContext,
                kind: str, detail: str) -> _Decision:
        """Run the engine; no database work here."""
        new_state, actions = advance(flow, state, event, context)
        summary = "; ".join(f"{a.kind} {a.detail}".strip() for a in actions if isinstance(a, Outcome))
        # The audit event rides along: the database writes it from these columns (migration 0004).
        changes = {"state": new_state.to_dict(), "last_update": self.now, "last_event_kind": kind,
                   "last_event_node": state.node or new_state.node, "last_event_detail": detail[:500],
                   "last_event_outcome": summary}
        if summary:
            changes["outcome"] = f"{call.outcome}; {summary}" if call.outcome else summary
        if any(isinstance(a, Hangup) for a in actions) and call.status == "in-progress":
            changes["status"] = "completed"
        bookings = [a for a in actions if isinstance(a, EFFECTS)] if self.book_callback else []
        result = StepResult(actions, new_state.steps, flow.language, new_state.node, revision=flow.revision,
                            after_menu=state.waiting == "menu")
        return _Decision(call, context, changes, bookings, result)

    def _store(self, store: CallStore, decision: _Decision) -> bool:
        """Write the step (its audit event with it) and its bookings in one transaction; False if the call moved on."""
        call = decision.call
        if call.id is not None and not decision.bookings:  # most steps: one statement
            with self.write_lock(transaction=False):
                return store.store_step(call.id, call.version, decision.changes)
        session = self.session if decision.bookings else None
        with self.write_lock(transaction=True), store.transaction(session) as writes:
            if call.id is None:
                call_id = writes.add_call({
                    "call_sid": call.call_sid, "from_number": call.from_number, "tenant_id": call.tenant_id,
                    "flow_name": call.flow_name, "flow_language": call.flow_language,
                    "flow_revision": call.flow_revision, "status": "in-progress", "started_at": self.now,
                    "outcome": "", "version": 1, **decision.changes})
            elif writes.store_step(call.id, call.version, decision.changes):
                call_id = call.id
            else:
                writes.cancel()
                return False
            if decision.bookings:
                booked_call = self.session.get(Call, call_id)
                for action in decision.bookings:
                    self.book_callback(self.session, booked_call, action, decision.context, self.now)
        return True

    @contextlib.contextmanager
    def _reading(self):
        """Reads through the read session end with this block, so no snapshot outlives it."""
        try:
            yield
        finally:
            if self._reader is not None:
                self._reader.rollback()

    def _tenant_id(self, number: str | None) -> int | None:
        if not number:
            return None
        return self.reader.scalar(select(TenantPhone.tenant_id).where(TenantPhone.number == number))


def close_call(session: Session, call_sid: str, status: str, duration: int | None, now: datetime) -> Call | None:
    """A status callback: the call ended (completed, busy, failed, no-answer, canceled); the call, or None."""
    call = session.scalar(select(Call).where(Call.call_sid == call_sid).with_for_update())
    if call is None:
        return None
    call.status = status
    call.ended_at = call.ended_at or now
    call.version += 1  # a webhook that read the call before this must decide again
    call.last_update = now
    if duration is not None:
        call.duration_seconds = duration
    state = CallState.from_dict(call.state)
    if not state.finished:
        # Hung up while the hotline waited: say where, so staff see callers lost in a menu.
        where = f"hung up at {state.node} ({state.waiting or 'running'})"
        call.outcome = f"{call.outcome}; {where}" if call.outcome else where
        call.state = {**call.state, "finished": True, "waiting": None}
    # The database logs this change as an event, like every step (migration 0004).
    call.last_event_kind, call.last_event_node, call.last_event_detail = "status", state.node, status
    call.last_event_outcome = ""
    return call
