"""build_context on the demo cooperative, with the clock pinned: who calls, which services are open, closed or absent."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from ivr.config import Settings
from ivr.directory.routing import build_context
from ivr.flows.model import SERVICE_KINDS

BECKER = "+493023125301"  # Frau Becker, Lindenhof, Siegen: every service
KLEIN = "+493023125311"  # Frau Klein, Mühlenweg, Netphen: no meals, no day care
COLLINS = "+493023125303"  # Mrs Collins, Lindenhof, speaks English
YILMAZ = "+493023125306"  # Frau Yılmaz, Sonnenblick, Kreuztal, speaks Turkish
STAFF = "+493023125000"


@pytest.fixture
def settings(database_url):
    return Settings.from_env(
        database_url=database_url, staff_number=STAFF, timezone="Europe/Berlin", holiday_region="DE-NW", default_language="de"
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def context(demo, settings, number, when_utc):
    with demo() as session:
        return build_context(session, number, utc(when_utc), settings)


def statuses(ctx) -> dict[str, str]:
    return {kind: ctx.service(kind).status for kind in SERVICE_KINDS}


def test_known_tenant_in_a_fully_served_town_on_a_weekday_morning(demo, settings):
    ctx = context(demo, settings, BECKER, "2025-04-01 08:00")  # Tuesday 10:00 in Berlin (CEST)
    assert ctx.now == datetime(2025, 4, 1, 10, 0, tzinfo=ctx.now.tzinfo) and str(ctx.now.tzinfo) == "Europe/Berlin"
    caller = ctx.caller
    assert (caller.known, caller.salutation, caller.language) == (True, "Frau Becker", "de")
    assert (caller.house_id, caller.house_name, caller.region_id, caller.region_name) == ("lindenhof", "Lindenhof", "siegen", "Siegen")
    assert statuses(ctx) == dict.fromkeys(SERVICE_KINDS, "open")
    groceries = ctx.service("groceries")
    assert groceries.partner_name == "Frischekorb"
    assert groceries.numbers == ("+493023125101",)
    assert groceries.whisper.startswith("Anruf über das Hausruf-Telefon")
    assert ctx.volunteer_numbers == ("+493023125201", "+493023125202")
    assert ctx.staff_number == STAFF
    assert ctx.public_holiday is False


def test_at_night_groceries_are_closed_with_hours_and_next_opening(demo, settings):
    ctx = context(demo, settings, BECKER, "2025-04-01 21:00")  # Tuesday 23:00
    groceries = ctx.service("groceries")
    assert groceries.status == "closed"
    assert groceries.hours_text == "montags bis freitags von 8 bis 18 Uhr, samstags von 8 bis 14 Uhr, an Feiertagen geschlossen"
    assert groceries.next_open_text == "morgen um 8 Uhr"
    assert groceries.numbers == ("+493023125101",)
    assert ctx.service("home_emergency").status == "open"  # 24/7
    assert ctx.volunteer_numbers == ("+493023125202",)  # Jonas Brandt has quiet hours 21:00-08:00


def test_friday_evening_next_opening_is_saturday(demo, settings):
    ctx = context(demo, settings, BECKER, "2025-04-04 17:00")  # Friday 19:00
    assert ctx.service("groceries").next_open_text == "morgen um 8 Uhr"
    assert ctx.service("home_care").next_open_text == "am Montag um 8 Uhr"


def test_town_without_meal_service_or_day_care(demo, settings):
    ctx = context(demo, settings, KLEIN, "2025-04-01 08:00")
    assert ctx.caller.region_id == "netphen"
    assert statuses(ctx) == {
        "groceries": "open", "meals": "unavailable", "home_emergency": "open", "home_care": "open", "day_care": "unavailable",
    }
    assert ctx.service("meals").partner_name == ""  # the inactive village bakery does not count


def test_public_holiday_closes_partners_with_ph_off(demo, settings):
    ctx = context(demo, settings, BECKER, "2025-04-21 08:00")  # Easter Monday 10:00, a holiday in NRW
    assert ctx.public_holiday is True
    assert ctx.service("groceries").status == "closed"
    assert ctx.service("groceries").next_open_text == "morgen um 8 Uhr"
    assert ctx.service("home_emergency").status == "open"


def test_regional_holiday_follows_the_configured_state(demo, settings, database_url):
    # Corpus Christi (2025-06-19) is a holiday in NRW but not in Berlin.
    assert context(demo, settings, BECKER, "2025-06-19 08:00").service("groceries").status == "closed"
    berlin = Settings.from_env(database_url=database_url, holiday_region="DE-BE", timezone="Europe/Berlin")
    assert context(demo, berlin, BECKER, "2025-06-19 08:00").service("groceries").status == "open"


def test_dst_spring_forward_uses_summer_time(demo, settings):
    # Monday after the last Sunday of March: 06:30 UTC is 08:30 CEST (open), not 07:30 CET.
    ctx = context(demo, settings, BECKER, "2025-03-31 06:30")
    assert (ctx.now.hour, ctx.now.minute) == (8, 30)
    assert ctx.service("groceries").status == "open"


def test_dst_fall_back_uses_winter_time(demo, settings):
    # Monday after the last Sunday of October: 06:30 UTC is 07:30 CET (closed), not 08:30 CEST.
    ctx = context(demo, settings, BECKER, "2025-10-27 06:30")
    assert (ctx.now.hour, ctx.now.minute) == (7, 30)
    assert ctx.service("groceries").status == "closed"
    assert ctx.service("groceries").next_open_text == "heute um 8 Uhr"


def test_over_the_dst_night_next_opening_is_in_local_time(demo, settings):
    ctx = context(demo, settings, BECKER, "2025-03-29 22:00")  # Saturday 23:00 CET, clocks go forward tonight
    assert ctx.service("home_care").next_open_text == "am Montag um 8 Uhr"


def test_english_speaking_tenant_hears_english_hours(demo, settings):
    ctx = context(demo, settings, COLLINS, "2025-04-01 21:00")
    assert ctx.caller.language == "en" and ctx.caller.salutation == "Mrs Collins"
    groceries = ctx.service("groceries")
    assert groceries.hours_text == "Monday to Friday from 8 am to 6 pm, Saturday from 8 am to 2 pm, closed on public holidays"
    assert groceries.next_open_text == "tomorrow at 8 am"


def test_tenant_language_without_spoken_hours_falls_back_to_the_default(demo, settings):
    ctx = context(demo, settings, YILMAZ, "2025-04-01 21:00")
    assert ctx.caller.language == "tr"
    assert ctx.service("groceries").next_open_text == "morgen um 8 Uhr"


def test_unknown_caller_reaches_only_partners_serving_every_region(demo, settings):
    ctx = context(demo, settings, "+49 30 23125999", "2025-04-01 08:00")
    assert ctx.caller.known is False and ctx.caller.number == "+493023125999"
    assert statuses(ctx) == {
        "groceries": "open", "meals": "unavailable", "home_emergency": "open", "home_care": "open", "day_care": "unavailable",
    }
    assert ctx.volunteer_numbers == ()
    assert ctx.staff_number == STAFF


@pytest.mark.parametrize("written", ["0049 (30) 231 253 01", "030 23125301", "+49 30 2312 5301", "+493023125301"])
def test_number_in_any_formatting_finds_the_tenant(demo, settings, written):
    ctx = context(demo, settings, written, "2025-04-01 08:00")
    assert ctx.caller.known and ctx.caller.salutation == "Frau Becker"


def test_second_number_of_a_tenant_finds_them_too(demo, settings):
    assert context(demo, settings, "+493023125321", "2025-04-01 08:00").caller.salutation == "Frau Becker"


@pytest.mark.parametrize("withheld", [None, "", "anonymous", "+266696687"])
def test_withheld_or_garbage_caller_id_is_an_unknown_caller(demo, settings, withheld):
    ctx = context(demo, settings, withheld, "2025-04-01 08:00")
    assert ctx.caller.known is False and ctx.caller.number is None


def test_build_context_is_fast(demo, settings):
    """It runs on every webhook; a few indexed queries, measured here (generous bound against slow CI)."""
    with demo() as session:
        build_context(session, BECKER, utc("2025-04-01 08:00"), settings)  # warm caches
        runs = 50
        start = time.perf_counter()
        for _ in range(runs):
            build_context(session, BECKER, utc("2025-04-01 21:00"), settings)
        per_call = (time.perf_counter() - start) / runs
    assert per_call < 0.05, f"build_context took {per_call * 1000:.1f} ms"
