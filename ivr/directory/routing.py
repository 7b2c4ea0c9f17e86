"""The routing context of one webhook: who calls, which partner services can take them now, whom else to dial.

The directory is read through DirectoryReads (four reads: the caller, the partners, a house's
volunteers, the housing projects), which ivr.directory.cache can answer from memory; everything
that depends on the moment (open now, quiet hours, holidays) is worked out afresh on every call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Callable, TypeVar
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.config import Settings
from ivr.db.models import House, Partner, Region, Tenant, TenantPhone, Volunteer, partner_regions
from ivr.directory.housechat import house_news
from ivr.directory.phones import caller_number, takes_sms
from ivr.engine.context import Caller, CallContext, ServiceStatus
from ivr.flows.model import SERVICE_KINDS
from ivr.housing.directory import active_projects
from ivr.hours import DESCRIBED_LANGUAGES, OpeningHours, describe_moment, in_quiet_hours

T = TypeVar("T")


@dataclass(frozen=True)
class ServingPartner:
    """An active partner as routing sees it: plain values, safe to keep between requests and threads."""

    id: str
    name: str
    service_kind: str
    phone: str
    opening_hours: str
    whisper: str
    regions: frozenset[str]


@dataclass(frozen=True)
class Partners:
    """The active partners, and how many regions there are (a partner serving all serves unknown callers)."""

    serving: tuple[ServingPartner, ...]
    region_count: int


@dataclass(frozen=True)
class HouseVolunteer:
    """An active volunteer of a house: the phone to dial and the quiet hours to respect."""

    phone: str
    quiet_hours: str


def _read_now(key: object, read: Callable[[], T]) -> T:
    return read()


class DirectoryReads:
    """The directory reads of the call path, through session; `remember(key, read)` may answer from memory."""

    def __init__(self, session: Session, remember: Callable[[object, Callable[[], T]], T] = _read_now):
        self.session = session
        self.remember = remember

    def caller(self, raw_number: str | None) -> Caller:
        """The caller with this number (see find_caller)."""
        return self.remember(("caller", raw_number), lambda: find_caller(self.session, raw_number))

    def partners(self) -> Partners:
        """The active partners with the regions they serve."""
        return self.remember("partners", lambda: read_partners(self.session))

    def volunteers(self, house_id: str) -> tuple[HouseVolunteer, ...]:
        """The house's active volunteers."""
        return self.remember(("volunteers", house_id), lambda: house_volunteers(self.session, house_id))

    def projects(self) -> tuple:
        """The active housing projects (ivr.housing.ranking.Project)."""
        return self.remember("projects", lambda: active_projects(self.session))


def build_context(session: Session, caller: str | None, now_utc: datetime, settings: Settings) -> CallContext:
    """Everything the engine needs for this call at this moment (a few indexed queries)."""
    return context_from(DirectoryReads(session), caller, now_utc, settings)


def context_from(directory: DirectoryReads, caller: str | None, now_utc: datetime, settings: Settings) -> CallContext:
    """The call's context from the directory's reads and the moment."""
    local = now_utc.astimezone(_zone(settings.timezone))
    holiday = is_public_holiday(settings.holiday_region, local.date())
    who = directory.caller(caller)
    language = who.language if who.language in DESCRIBED_LANGUAGES else settings.default_language
    # Opening hours are given to the minute, so a status holds for the whole minute.
    minute = local.replace(second=0, microsecond=0)
    services = directory.remember(
        ("services", who.region_id, minute, settings.holiday_region, language),
        lambda: statuses_for(directory.partners(), who.region_id, minute, settings.holiday_region, language))
    volunteers = directory.volunteers(who.house_id) if who.house_id else ()
    return CallContext(
        now=local,
        caller=who,
        services=services,
        volunteer_numbers=tuple(v.phone for v in volunteers if not in_quiet_hours(v.quiet_hours, local)),
        staff_number=settings.staff_number,
        public_holiday=holiday,
        projects=directory.projects(),
        caller_takes_sms=directory.remember(("takes_sms", who.number), lambda: takes_sms(who.number)),
        # Not the directory: the worker stores the house room as it changes, so it is read, not remembered
        # (opted-in callers only: two small indexed queries).
        house_news=house_news(directory.session, who, now_utc),
    )


def find_caller(session: Session, raw_number: str | None) -> Caller:
    """The tenant with this number in any formatting, with house and region; unknown callers keep the number."""
    number = caller_number(raw_number)
    if number is None:
        return Caller()
    row = session.execute(
        select(Tenant, House, Region)
        .join(TenantPhone, TenantPhone.tenant_id == Tenant.id)
        .join(House, House.id == Tenant.house_id)
        .join(Region, Region.id == House.region_id)
        .where(TenantPhone.number == number)
    ).first()
    if row is None:
        return Caller(number=number)
    tenant, house, region = row
    return Caller(
        number=number,
        known=True,
        first_name=tenant.first_name,
        last_name=tenant.last_name,
        salutation=tenant.salutation,
        language=tenant.language,
        house_id=house.id,
        house_name=house.name,
        region_id=region.id,
        region_name=region.name,
        house_chat=tenant.house_chat and bool(house.chat_room),
    )


def service_statuses(
    session: Session, region_id: str | None, local: datetime, holiday_region: str, language: str
) -> dict[str, ServiceStatus]:
    """A status for every service kind: the partners serving the region (unknown callers: serving every region)."""
    return statuses_for(read_partners(session), region_id, local, holiday_region, language)


def read_partners(session: Session) -> Partners:
    """The active partners with the regions each serves, and the number of regions."""
    rows = session.execute(
        select(Partner.id, Partner.name, Partner.service_kind, Partner.phone, Partner.opening_hours, Partner.whisper,
               partner_regions.c.region_id)
        .join(partner_regions, partner_regions.c.partner_id == Partner.id)
        .where(Partner.active.is_(True))
        .order_by(Partner.id)
    ).all()
    fields: dict[str, tuple] = {}
    served: dict[str, set[str]] = {}
    for *partner, region in rows:
        fields[partner[0]] = tuple(partner)
        served.setdefault(partner[0], set()).add(region)
    serving = tuple(ServingPartner(*values, regions=frozenset(served[pid])) for pid, values in fields.items())
    return Partners(serving, session.scalar(select(func.count()).select_from(Region)))


def statuses_for(partners: Partners, region_id: str | None, local: datetime, holiday_region: str,
                 language: str) -> dict[str, ServiceStatus]:
    """A status for every service kind from the partners that serve region_id (None: serve every region)."""
    if region_id is None:
        reachable = [p for p in partners.serving if len(p.regions) == partners.region_count]
    else:
        reachable = [p for p in partners.serving if region_id in p.regions]
    return {
        kind: _status(kind, [p for p in reachable if p.service_kind == kind], local, holiday_region, language)
        for kind in SERVICE_KINDS
    }


def _status(kind: str, partners: list[ServingPartner], local: datetime, holiday_region: str,
            language: str) -> ServiceStatus:
    """Open if any partner is open now; else closed, naming the partner that opens soonest."""
    if not partners:
        return ServiceStatus(kind=kind, status="unavailable")
    holiday = is_public_holiday(holiday_region, local.date())
    open_now = [p for p in partners if _hours(p.opening_hours).is_open(local, holiday)]
    if open_now:
        first = open_now[0]
        return ServiceStatus(
            kind=kind,
            status="open",
            partner_name=first.name,
            numbers=tuple(p.phone for p in open_now),
            whisper=first.whisper,
            hours_text=_hours(first.opening_hours).describe(language),
        )

    def next_opening(partner: ServingPartner) -> datetime | None:
        return _hours(partner.opening_hours).next_opening(local, lambda day: is_public_holiday(holiday_region, day))

    openings = [(next_opening(p), p) for p in partners]
    known = sorted(((when, p) for when, p in openings if when is not None), key=lambda pair: pair[0])
    when, first = known[0] if known else (None, partners[0])
    return ServiceStatus(
        kind=kind,
        status="closed",
        partner_name=first.name,
        numbers=(first.phone,),
        whisper=first.whisper,
        hours_text=_hours(first.opening_hours).describe(language),
        next_open_text=describe_moment(when, local, language) if when else "",
    )


def house_volunteers(session: Session, house_id: str) -> tuple[HouseVolunteer, ...]:
    """The house's active volunteers, in directory order."""
    rows = session.execute(select(Volunteer.phone, Volunteer.quiet_hours)
                           .where(Volunteer.house_id == house_id, Volunteer.active.is_(True)).order_by(Volunteer.id))
    return tuple(HouseVolunteer(phone, quiet_hours) for phone, quiet_hours in rows)


def is_public_holiday(holiday_region: str, day: date) -> bool:
    """Whether day is a public holiday in a region like 'DE-NW' (country, then subdivision)."""
    return day in _holidays(holiday_region, day.year)


@lru_cache(maxsize=64)
def _holidays(holiday_region: str, year: int) -> frozenset[date]:
    # Built once per region and year: the holidays package computes Easter and friends on demand.
    country, _, subdivision = holiday_region.partition("-")
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year))


@lru_cache(maxsize=256)
def _hours(text: str) -> OpeningHours:
    return OpeningHours.parse(text)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
