"""One webhook, one engine step: read the call, advance the pure engine, store state and audit event.

Provider-neutral: a telephony adapter (ivr.telephony) calls start() and handle() with its call id
and engine events, and renders the returned actions itself.

A step reads the call and the caller's context in a read-only transaction, decides with the engine,
and stores the result in a short write transaction: the call's UPDATE (versioned by the ORM's
version_id_col), its call_events row and any booked callback commit together. When two webhooks of
the same call race (a key press and a spoken word), the second one's UPDATE finds the version moved
on (StaleDataError): it decides again on the new state, where its step is stale and only repeats
what the call waits for.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ivr.calls.store import find_call, record_step
from ivr.config import Settings
from ivr.db.engine import read_only
from ivr.db.models import Call, CallEvent, TenantPhone
from ivr.directory.phones import mask
from ivr.engine import CallContext, CallStarted, CallState, Resume, advance
from ivr.engine.actions import HOUSE_MESSAGE_EFFECTS, Action, BookCallback, Hangup, Outcome
from ivr.engine.events import Event
from ivr.flows.model import Flow
from ivr.housing.actions import HOUSING_EFFECTS
from ivr.numbers import flow_for
from ivr.telephony.ports import StepResult

log = logging.getLogger("hausruf.calls")

# Books a callback task (and its SMS) in the session of the step, so both commit together.
Booker = Callable[[Session, Call, BookCallback, CallContext, datetime], object]
# (session, caller address, now, settings) -> the caller's context (ivr.directory.routing.build_context).
ContextBuilder = Callable[[Session, str | None, datetime, Settings], CallContext]

# Each failed attempt means another webhook of the call was stored meanwhile; a call has a handful
# at most (key, word, status, a retry). A version that moves more often than this is a loop
# elsewhere: the webhook gives up and the caller gets the staff fallback.
DECIDE_ATTEMPTS = 10
# Actions written in the step's transaction by the booker (callbacks; housing counts, seekers, SMS;
# drafts of messages to the neighbours and their confirmation).
EFFECTS = (BookCallback, *HOUSING_EFFECTS, *HOUSE_MESSAGE_EFFECTS)


class CallChangedMeanwhile(RuntimeError):
    """The call changed under every attempt to store a step (see DECIDE_ATTEMPTS)."""


class CallHandler:
    """Runs engine steps for calls stored in the database, in one session (one per request)."""

    def __init__(self, session: Session, settings: Settings, flows, build_context: ContextBuilder,
                 book_callback: Booker | None, now: datetime, provider: str):
        self.session = session
        self.settings = settings
        self.flows = flows
        self.build_context = build_context
        self.book_callback = book_callback
        self.now = now
        self.provider = provider

    def start(self, call_id: str, caller: str | None, called: str | None = None) -> StepResult:
        """An incoming call: the called number picks the flow (HAUSRUF_NUMBERS), the caller's language its file."""
        read_only(self.session)
        if find_call(self.session, self.provider, call_id) is not None:  # the provider retried the webhook
            self.session.commit()
            return self.handle(call_id, Resume(), None, "resume", "")
        context = self.build_context(self.session, caller, self.now, self.settings)
        tenant_id = self.session.scalar(select(TenantPhone.tenant_id).where(
            TenantPhone.number == context.caller.number)) if context.caller.known else None
        self.session.commit()  # ends the read; the write below begins its own transaction
        language = context.caller.language or self.settings.default_language
        name = flow_for(self.settings.numbers, self.settings.flow_name, called)
        flow = self.flows.get(name, language, self.settings.default_language)
        call = Call(provider=self.provider, provider_call_id=call_id, from_number=caller,
                    tenant_id=tenant_id, flow_name=flow.name, flow_language=flow.language,
                    flow_revision=flow.revision, status="active", started_at=self.now, outcome="", state={})
        try:
            result = self._step(call, flow, CallState(), CallStarted(), context, "start", "")
        except IntegrityError:
            self.session.rollback()
            read_only(self.session)
            if find_call(self.session, self.provider, call_id) is None:
                raise  # not the same call started by another thread: the webhook answers with the fallback
            self.session.commit()  # the same call started in another server thread a moment ago
            return self.handle(call_id, Resume(), None, "resume", "")
        log.info("call %s from %s starts flow %s@%s", call_id, mask(caller or ""), flow.key, flow.revision)
        return result

    def handle(self, call_id: str, event: Event, expected_step: int | None, kind: str, detail: str) -> StepResult:
        """A later webhook of a call; a post for an older step only repeats what the call waits on."""
        for _ in range(DECIDE_ATTEMPTS):
            read_only(self.session)
            call = find_call(self.session, self.provider, call_id)
            if call is None:
                self.session.commit()
                log.warning("webhook for unknown call %s: starting it afresh", call_id)
                return self.start(call_id, None)
            context = self.build_context(self.session, call.from_number, self.now, self.settings)
            self.session.commit()
            state = CallState.from_dict(call.state)
            stale = expected_step is not None and expected_step != state.steps
            if stale:  # a key press and a spoken word raced, or the provider retried: the first one won
                log.info("call %s: stale %s for step %s (now %s)", call_id, kind, expected_step, state.steps)
            try:
                return self._step(call, self._flow_of(call), state, Resume() if stale else event, context,
                                  f"stale-{kind}" if stale else kind, detail, stale)
            except StaleDataError:
                self.session.rollback()
                log.info("call %s changed while its %s was decided: deciding again", call_id, kind)
        raise CallChangedMeanwhile(f"call {call_id} changed under {DECIDE_ATTEMPTS} attempts to store a step")

    def _flow_of(self, call: Call) -> Flow:
        # A call finishes on the revision it began with, even if staff edited the flow meanwhile.
        flow = self.flows.by_revision(call.flow_revision)
        if flow is None:
            flow = self.flows.get(call.flow_name, call.flow_language, self.settings.default_language)
        return flow

    def _step(self, call: Call, flow: Flow, state: CallState, event: Event, context: CallContext, kind: str,
              detail: str, stale: bool = False) -> StepResult:
        """Run the engine, then store the call, its audit event and its bookings in one transaction."""
        new_state, actions = advance(flow, state, event, context)
        summary = "; ".join(f"{a.kind} {a.detail}".strip() for a in actions if isinstance(a, Outcome))
        changes: dict = {"state": new_state.to_dict()}
        if summary:
            changes["outcome"] = f"{call.outcome}; {summary}" if call.outcome else summary
        if any(isinstance(a, Hangup) for a in actions) and call.status == "active":
            changes["status"] = "ended"
        record_step(self.session, call, self.now, kind, state.node or new_state.node, detail, summary, changes)
        if self.book_callback:
            for action in actions:
                if isinstance(action, EFFECTS):
                    self.book_callback(self.session, call, action, context, self.now)
        self.session.commit()
        return StepResult(actions, new_state.steps, flow.language, new_state.node, stale=stale,
                          revision=flow.revision, after_menu=state.waiting == "menu")


def close_call(session: Session, provider: str, call_id: str, status: str, duration: int | None,
               now: datetime) -> Call | None:
    """The provider says the call ended (status is one of CALL_STATUSES); the call, or None. The caller commits."""
    call = find_call(session, provider, call_id)
    if call is None:
        return None
    state = CallState.from_dict(call.state)
    changes: dict = {"status": status, "ended_at": call.ended_at or now}
    if duration is not None:
        changes["duration_seconds"] = duration
    if not state.finished:
        # Hung up while the hotline waited: say where, so staff see callers lost in a menu.
        where = f"hung up at {state.node} ({state.waiting or 'running'})"
        changes["outcome"] = f"{call.outcome}; {where}" if call.outcome else where
        changes["state"] = {**call.state, "finished": True, "waiting": None}
    if state.answers and not state.answers_kept:
        forget_answers(session, call, changes)
    record_step(session, call, now, "status", state.node, status, "", changes)
    return call


def forget_answers(session: Session, call: Call, changes: dict) -> None:
    """A caller who did not agree that their answers are stored: nothing of them outlives the call.

    The answers (a housing seeker's needs are health data, issue 19) and the projects they matched
    leave the call's state, and the keys and words of its events lose their detail; where the call
    went (nodes, outcome) stays for the statistics.
    """
    changes["state"] = {**changes.get("state", call.state), "answers": {}, "matched": []}
    session.execute(update(CallEvent).where(CallEvent.call_id == call.id).values(detail="")
                    .execution_options(synchronize_session=False))
