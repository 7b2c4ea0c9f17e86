"""One webhook, one engine step: load the call by CallSid, advance, store state, events and effects.

Provider-neutral: the Twilio webhooks (and a future SIP adapter) call start() and handle() with
engine events and render the returned actions themselves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ivr.config import Settings
from ivr.db.models import Call, CallEvent, TenantPhone
from ivr.directory.phones import mask
from ivr.engine import CallContext, CallStarted, CallState, Resume, advance
from ivr.engine.actions import Action, BookCallback, Hangup, Outcome
from ivr.engine.events import Event
from ivr.flows.model import Flow

log = logging.getLogger("hausruf.calls")

# Books a callback task (and its SMS) in the session of the webhook, so both commit together.
Booker = Callable[[Session, Call, BookCallback, CallContext, datetime], object]
ContextBuilder = Callable[[Session, str | None, datetime, Settings], CallContext]


@dataclass(frozen=True)
class StepResult:
    """What to render: the actions, the step they belong to, and the flow language."""

    actions: list[Action]
    step: int
    language: str
    node: str | None
    stale: bool = False
    revision: str = ""


class CallHandler:
    """Runs engine steps for calls stored in the database; one instance per request."""

    def __init__(self, session: Session, settings: Settings, flows, build_context: ContextBuilder,
                 book_callback: Booker | None, now: datetime):
        self.session = session
        self.settings = settings
        self.flows = flows
        self.build_context = build_context
        self.book_callback = book_callback
        self.now = now

    def _locked_call(self, call_sid: str) -> Call | None:
        # FOR UPDATE serialises webhooks of one call on PostgreSQL; SQLite transactions begin
        # IMMEDIATE (ivr.db.engine), which serialises all writers.
        return self.session.scalar(select(Call).where(Call.call_sid == call_sid).with_for_update())

    def start(self, call_sid: str, from_number: str | None) -> StepResult:
        """An incoming call: pick the flow by the caller's language and run it to its first wait."""
        existing = self._locked_call(call_sid)
        if existing is not None:  # Twilio retried the incoming-call webhook: do not start twice
            return self.handle(call_sid, Resume(), None, "resume", "")
        context = self.build_context(self.session, from_number, self.now, self.settings)
        language = context.caller.language or self.settings.default_language
        flow = self.flows.get(self.settings.flow_name, language, self.settings.default_language)
        call = Call(call_sid=call_sid, from_number=context.caller.number or from_number,
                    tenant_id=self._tenant_id(context.caller.number), flow_name=flow.name,
                    flow_language=flow.language, flow_revision=flow.revision, state={},
                    status="in-progress", started_at=self.now, last_update=self.now)
        self.session.add(call)
        self.session.flush()
        log.info("call %s from %s starts flow %s@%s", call_sid, mask(from_number or ""), flow.key, flow.revision)
        return self._advance(call, flow, CallState(), CallStarted(), context, "start", "")

    def handle(self, call_sid: str, event: Event, expected_step: int | None, kind: str, detail: str) -> StepResult:
        """A later webhook of a call; a post for an older step only repeats what the call waits on."""
        call = self._locked_call(call_sid)
        if call is None:
            log.warning("webhook for unknown call %s: starting it afresh", call_sid)
            return self.start(call_sid, None)
        state = CallState.from_dict(call.state)
        flow = self._flow_of(call)
        context = self.build_context(self.session, call.from_number, self.now, self.settings)
        if expected_step is not None and expected_step != state.steps:
            # A key press and a spoken word raced, or Twilio retried: the first one won.
            log.info("call %s: stale %s for step %s (now %s)", call_sid, kind, expected_step, state.steps)
            result = self._advance(call, flow, state, Resume(), context, f"stale-{kind}", detail)
            return StepResult(result.actions, result.step, result.language, result.node, stale=True,
                              revision=result.revision)
        return self._advance(call, flow, state, event, context, kind, detail)

    def _flow_of(self, call: Call) -> Flow:
        # A call finishes on the revision it began with, even if staff edited the flow meanwhile.
        flow = self.flows.by_revision(call.flow_revision)
        if flow is None:
            flow = self.flows.get(call.flow_name, call.flow_language, self.settings.default_language)
        return flow

    def _advance(self, call: Call, flow: Flow, state: CallState, event: Event, context: CallContext,
                 kind: str, detail: str) -> StepResult:
        new_state, actions = advance(flow, state, event, context)
        outcomes = [a for a in actions if isinstance(a, Outcome)]
        for action in actions:
            if isinstance(action, BookCallback) and self.book_callback is not None:
                self.book_callback(self.session, call, action, context, self.now)
        summary = "; ".join(f"{o.kind} {o.detail}".strip() for o in outcomes)
        changes = {"state": new_state.to_dict(), "last_update": self.now}
        if summary:
            changes["outcome"] = f"{call.outcome}; {summary}" if call.outcome else summary
        if any(isinstance(a, Hangup) for a in actions) and call.status == "in-progress":
            changes["status"] = "completed"
        # Plain UPDATE and INSERT statements: this runs on every webhook, and the ORM's unit of
        # work cost more than everything else in the step together (bench/webhooks.py).
        self.session.flush()
        self.session.execute(update(Call.__table__).where(Call.__table__.c.id == call.id).values(**changes))
        for name, value in changes.items():
            set_committed_value(call, name, value)
        self.session.execute(insert(CallEvent.__table__).values(
            call_id=call.id, at=self.now, kind=kind, node=state.node or new_state.node,
            detail=detail[:500], outcome=summary))
        return StepResult(actions, new_state.steps, flow.language, new_state.node, revision=flow.revision)

    def _tenant_id(self, number: str | None) -> int | None:
        if not number:
            return None
        return self.session.scalar(select(TenantPhone.tenant_id).where(TenantPhone.number == number))


def close_call(session: Session, call_sid: str, status: str, duration: int | None, now: datetime) -> bool:
    """A status callback: the call ended (completed, busy, failed, no-answer, canceled)."""
    call = session.scalar(select(Call).where(Call.call_sid == call_sid).with_for_update())
    if call is None:
        return False
    call.status = status
    call.ended_at = call.ended_at or now
    if duration is not None:
        call.duration_seconds = duration
    state = CallState.from_dict(call.state)
    if not state.finished:
        # Hung up while the hotline waited: say where, so staff see callers lost in a menu.
        where = f"hung up at {state.node} ({state.waiting or 'running'})"
        call.outcome = f"{call.outcome}; {where}" if call.outcome else where
        call.state = {**call.state, "finished": True, "waiting": None}
    session.add(CallEvent(call_id=call.id, at=now, kind="status", node=state.node, detail=status))
    return True
