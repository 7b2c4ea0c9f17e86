"""The routing context of one webhook: who calls, which partner services can take them now, whom else to dial."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
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


def build_context(session: Session, caller: str | None, now_utc: datetime, settings: Settings) -> CallContext:
    """Everything the engine needs for this call at this moment (a few indexed queries)."""
    local = now_utc.astimezone(_zone(settings.timezone))
    holiday = is_public_holiday(settings.holiday_region, local.date())
    who = find_caller(session, caller)
    language = who.language if who.language in DESCRIBED_LANGUAGES else settings.default_language
    services = service_statuses(session, who.region_id, local, settings.holiday_region, language)
    return CallContext(
        now=local,
        caller=who,
        services=services,
        volunteer_numbers=volunteer_numbers(session, who.house_id, local),
        staff_number=settings.staff_number,
        public_holiday=holiday,
        projects=active_projects(session),
        caller_takes_sms=takes_sms(who.number),
        house_news=house_news(session, who, now_utc),  # only opted-in callers: stored by the worker
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
    rows = session.execute(
        select(Partner, partner_regions.c.region_id)
        .join(partner_regions, partner_regions.c.partner_id == Partner.id)
        .where(Partner.active.is_(True))
        .order_by(Partner.id)
    ).all()
    served: dict[str, set[str]] = {}
    partners: dict[str, Partner] = {}
    for partner, served_region in rows:
        partners[partner.id] = partner
        served.setdefault(partner.id, set()).add(served_region)
    if region_id is None:
        every = session.scalar(select(func.count()).select_from(Region))
        reachable = [p for p in partners.values() if len(served[p.id]) == every]
    else:
        reachable = [p for p in partners.values() if region_id in served[p.id]]
    return {
        kind: _status(kind, [p for p in reachable if p.service_kind == kind], local, holiday_region, language)
        for kind in SERVICE_KINDS
    }


def _status(kind: str, partners: list[Partner], local: datetime, holiday_region: str, language: str) -> ServiceStatus:
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

    def next_opening(partner: Partner) -> datetime | None:
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


def volunteer_numbers(session: Session, house_id: str | None, local: datetime) -> tuple[str, ...]:
    """Phones of the house's active volunteers, leaving out those in their quiet hours now."""
    if house_id is None:
        return ()
    volunteers = session.scalars(
        select(Volunteer).where(Volunteer.house_id == house_id, Volunteer.active.is_(True)).order_by(Volunteer.id)
    )
    return tuple(v.phone for v in volunteers if not in_quiet_hours(v.quiet_hours, local))


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
