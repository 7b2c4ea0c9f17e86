"""What the app is wired with, in one typed object (instead of string keys in app.extensions).

create_app() fills it; each subsystem's init_app() sets its own fields. Views and adapters read it
with hausruf(current_app); tests replace fields (the clock, the context builder) the same way.
ivr.app is the place that chooses the adapters (Twilio, later SIP and chat); this module only holds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from flask import Flask

from ivr.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from ivr.calls.handler import Booker, ContextBuilder
    from ivr.calls.service import GatedCalls
    from ivr.db.deadline import DatabaseGate
    from ivr.flows.runtime import LiveFlows
    from ivr.tasks.config import TaskConfig
    from ivr.telephony.ports import MessagingChannel, TelephonyAdapter

EXTENSION = "hausruf"


def utcnow() -> datetime:
    """The only clock the web side reads."""
    return datetime.now(timezone.utc)


@dataclass
class Hausruf:
    """The app's parts. Fields set by a subsystem's init_app() are None until it ran."""

    settings: Settings
    tasks: "TaskConfig"  # offer and escalation timing, read once from the environment
    clock: Callable[[], datetime] = utcnow
    sessions: "sessionmaker[Session] | None" = None
    read_sessions: "sessionmaker[Session] | None" = None  # transactions that only read (DEFERRED on SQLite)
    database: "DatabaseGate | None" = None  # every webhook's database work goes through it
    flows: "LiveFlows | None" = None
    build_context: "ContextBuilder | None" = None
    book_callback: "Booker | None" = None
    telephony: "TelephonyAdapter | None" = None
    messaging: "MessagingChannel | None" = None
    outbox_kick: Callable[[], None] | None = None  # wakes the worker after a commit that queued messages
    recording_ready: Callable[[str, "str | None"], None] | None = None  # wakes the worker to fetch a recording
    erase_at_provider: Callable[[list[str]], str] | None = None  # a person's records at the provider, by id
    prompt_url: Callable[[str, str], "str | None"] = lambda text, language: None
    prompt_renderer: Any = None
    speech_models: Any = None
    speech_streams: Any = None
    _calls: dict[str, "GatedCalls"] = field(default_factory=dict)

    def calls(self, provider: str) -> "GatedCalls":
        """The CallService port (ivr.telephony.ports) for one telephony adapter."""
        if provider not in self._calls:
            from ivr.calls.service import GatedCalls

            self._calls[provider] = GatedCalls(self, provider)
        return self._calls[provider]


def hausruf(app: Flask) -> Hausruf:
    """The wiring of app."""
    return app.extensions[EXTENSION]
