"""What the engine may know about the caller and the world; built by the adapter, read-only here."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from ivr.engine.housenews import NewsItem


@dataclass(frozen=True)
class Caller:
    """The person calling, as far as the directory knows them."""

    number: str | None = None
    known: bool = False
    first_name: str = ""
    last_name: str = ""
    salutation: str = ""  # e.g. "Frau Becker" / "Herr Yilmaz", ready to speak
    language: str | None = None
    house_id: str | None = None
    house_name: str = ""
    region_id: str | None = None
    region_name: str = ""
    house_chat: bool = False  # opted in to the house chat by phone, and the house has a chat room


SERVICE_STATUSES = ("open", "closed", "unavailable")


@dataclass(frozen=True)
class ServiceStatus:
    """Whether a partner service can take this caller now, and how to reach it."""

    kind: str
    status: str  # one of SERVICE_STATUSES
    partner_name: str = ""
    numbers: tuple[str, ...] = ()
    whisper: str = ""
    hours_text: str = ""  # opening hours, ready to speak in the flow's language
    next_open_text: str = ""  # e.g. "morgen um 8 Uhr"


@dataclass(frozen=True)
class CallContext:
    """Everything outside the flow that a step may depend on, time included."""

    now: datetime  # aware, in the cooperative's time zone
    caller: Caller = field(default_factory=Caller)
    services: dict[str, ServiceStatus] = field(default_factory=dict)
    volunteer_numbers: tuple[str, ...] = ()
    staff_number: str | None = None
    hotline_name: str = "Hausruf"
    public_holiday: bool = False
    projects: tuple = ()  # housing projects (ivr.housing.ranking.Project) a match node ranks
    caller_takes_sms: bool = False  # the caller's number can receive SMS (a mobile number)
    # The caller's house room as the worker stored it (ivr.directory.housechat), oldest first; a house_news
    # node reads it. Empty when the caller has no house chat (caller.house_chat says which).
    house_news: tuple[NewsItem, ...] = ()

    def service(self, kind: str) -> ServiceStatus:
        """Status for a service kind; unknown kinds are unavailable."""
        return self.services.get(kind) or ServiceStatus(kind=kind, status="unavailable")

    def template_variables(self, service_kind: str | None, answers: dict | None = None) -> TemplateVariables:
        """What a prompt template reads at this step (the service is the one the call is dealing with)."""
        return TemplateVariables(
            caller=self.caller,
            service=self.service(service_kind) if service_kind else None,
            hotline=self.hotline_name,
            now=self.now,
            answers=answers if answers is not None else {},
        )


@dataclass(frozen=True)
class TemplateVariables:
    """The names a prompt template may use, and their types: the one source for the engine and the checker.

    The checker reads these type hints (and the fields of the dataclasses they name) to list the
    allowed variables, so a field added to Caller or ServiceStatus is usable in flows at once.
    A variable whose type is a mapping (e.g. answers a flow collects) takes its allowed keys from
    what the flow itself declares.
    """

    caller: Caller
    service: ServiceStatus | None  # None until the call reaches a node that names a service
    hotline: str
    now: datetime
    answers: dict[str, Any]  # what the call's ask nodes stored; the flow declares the keys

    def as_dict(self) -> dict:
        """The variables as Jinja2 takes them (the dataclasses stay objects, not dicts)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
