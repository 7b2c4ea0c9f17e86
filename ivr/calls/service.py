"""The CallService port (ivr.telephony.ports) for one provider: each step in its own session, under the deadline."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ivr.calls.handler import CallHandler, close_call
from ivr.db.models import Call
from ivr.engine.events import Event
from ivr.telephony.ports import StepResult

CLOSE_ATTEMPTS = 3  # the end of a call racing a step of it is simply done again


class GatedCalls:
    """Runs a telephony adapter's events through CallHandler, each under the database gate's deadline.

    `hausruf` is the app's wiring (ivr.wiring.Hausruf): the clock, flows and context builder are read
    from it at each call, so tests and a reload see the current ones.
    """

    def __init__(self, hausruf, provider: str):
        self.hausruf = hausruf
        self.provider = provider

    def _run(self, step) -> StepResult:
        hausruf = self.hausruf
        flows, now = hausruf.flows.current(), hausruf.clock()  # here, not in the database thread
        build_context, book = hausruf.build_context, hausruf.book_callback

        def work(session: Session) -> StepResult:
            return step(CallHandler(session, hausruf.settings, flows, build_context, book, now, self.provider))

        return hausruf.database.run(work)

    def start(self, call_id: str, caller: str | None, called: str | None = None) -> StepResult:
        """A new call (or the provider's retry of it): run the flow that the called number picks to its first wait."""
        return self._run(lambda handler: handler.start(call_id, caller, called))

    def deliver(self, call_id: str, event: Event, expected_step: int | None, kind: str, detail: str) -> StepResult:
        """An event of a call in progress."""
        return self._run(lambda handler: handler.handle(call_id, event, expected_step, kind, detail))

    def end(self, call_id: str, status: str, duration: int | None) -> str | None:
        """The call ended; its outcome, or None for a call never seen."""
        now = self.hausruf.clock()

        def close(session: Session) -> str | None:
            for _ in range(CLOSE_ATTEMPTS):
                try:
                    call = close_call(session, self.provider, call_id, status, duration, now)
                    if call is None:
                        return None
                    outcome = call.outcome
                    session.commit()
                    return outcome
                except StaleDataError:  # a step of the call was stored meanwhile
                    session.rollback()
            return None

        return self.hausruf.database.run(close)

    def waits_in_menu(self, call_id: str, step: int) -> bool:
        """Whether the call still waits in the menu of step."""

        def read(session: Session) -> bool:
            state = session.scalar(select(Call.state).where(Call.provider == self.provider,
                                                            Call.provider_call_id == call_id))
            return bool(state) and state.get("steps") == step and state.get("waiting") == "menu"

        return self.hausruf.database.run(read)
