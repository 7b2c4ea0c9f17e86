"""Opening hours in a small subset of OpenStreetMap's opening_hours syntax; pure: no clock, no database.

Accepted form: rules separated by ";", each rule is `DAYS TIMES`, `DAYS off`, `TIMES` (every day) or `24/7`.

    Mo-Fr 08:00-18:00; Sa 09:00-12:00; PH off
    Mo,We,Fr 08:00-12:00,13:00-16:30
    24/7; PH 10:00-12:00

DAYS are Mo Tu We Th Fr Sa Su, ranges (Mo-Fr, also wrapping: Sa-Mo) and lists (Mo,We,Fr), or PH for
public holidays. A later rule replaces what earlier rules said about the same day (as in OSM), and a
PH rule replaces the weekday rules on a public holiday; without a PH rule a holiday is an ordinary day.

Spans never cross midnight: `Fr 22:00-02:00` is refused with a hint to write `Fr 22:00-24:00; Sa 00:00-02:00`.
Keeping every span inside one calendar day makes "is it open" a question about one local date only,
which is what keeps daylight saving days simple: all arithmetic is in local wall time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
HOLIDAY = "PH"
LOOKAHEAD_DAYS = 14
DESCRIBED_LANGUAGES = ("de", "en")  # describe() speaks these; others get English
FORM = "expected rules like 'Mo-Fr 08:00-18:00; Sa 09:00-12:00; PH off' or '24/7'"

_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")

Span = tuple[int, int]  # minutes after local midnight, [start, end), end may be 1440


@dataclass(frozen=True)
class Rule:
    """One `;`-separated part: which days (weekday numbers, or PH) and their spans (empty: closed)."""

    days: tuple[int, ...]
    holiday: bool
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class OpeningHours:
    """Parsed opening hours; `text` is the normalised form written back on export."""

    text: str
    rules: tuple[Rule, ...]

    @classmethod
    def parse(cls, text: str) -> "OpeningHours":
        """Parse the text; ValueError names the bad part and the allowed form."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"opening hours are empty; {FORM}")
        parts = [p.strip() for p in text.split(";")]
        if any(not p for p in parts):
            raise ValueError(f"opening hours {text!r} have an empty rule between ';'; {FORM}")
        rules = tuple(_parse_rule(p) for p in parts)
        return cls(text="; ".join(_normalise(p) for p in parts), rules=rules)

    def __str__(self) -> str:
        return self.text

    def spans_on(self, weekday: int, holiday: bool = False) -> tuple[Span, ...]:
        """The open spans of one day (0 = Monday); holidays use the last PH rule if there is one."""
        found: tuple[Span, ...] = ()
        for rule in self.rules:
            if not rule.holiday and weekday in rule.days:
                found = rule.spans
        if holiday:
            for rule in self.rules:
                if rule.holiday:
                    found = rule.spans
        return found

    def is_open(self, local_dt: datetime, holiday: bool = False) -> bool:
        """Open at this local wall-clock moment?"""
        minute = local_dt.hour * 60 + local_dt.minute
        return any(start <= minute < end for start, end in self.spans_on(local_dt.weekday(), holiday))

    def next_opening(self, local_dt: datetime, is_holiday: Callable[[date], bool]) -> datetime | None:
        """The first moment at or after local_dt when it is open (local_dt itself if open now), within 14 days."""
        if self.is_open(local_dt, is_holiday(local_dt.date())):
            return local_dt
        now_minute = local_dt.hour * 60 + local_dt.minute
        for offset in range(LOOKAHEAD_DAYS + 1):
            day = local_dt.date() + timedelta(days=offset)
            for start, end in sorted(self.spans_on(day.weekday(), is_holiday(day))):
                if offset == 0 and start <= now_minute:
                    continue
                # datetime.combine with the caller's tzinfo keeps wall time; zoneinfo resolves the offset.
                return datetime.combine(day, time(start // 60, start % 60), tzinfo=local_dt.tzinfo)
        return None

    def describe(self, language: str) -> str:
        """Spoken form in German or English (other languages get English)."""
        words = _GERMAN if _base(language) == "de" else _ENGLISH
        week = [self.spans_on(day) for day in range(7)]
        if all(spans == ((0, 1440),) for spans in week) and not any(r.holiday for r in self.rules):
            return words.always
        parts = [
            f"{words.every_day if len(group) == 7 else words.days(group)} {words.spans(spans)}"
            for group, spans in _groups(week)
            if spans
        ]
        holiday_rules = [r for r in self.rules if r.holiday]
        if holiday_rules:
            spans = holiday_rules[-1].spans
            parts.append(words.holidays(spans))
        return ", ".join(parts) if parts else words.closed


def _base(language: str) -> str:
    return (language or "").replace("_", "-").split("-")[0].lower()


def _normalise(part: str) -> str:
    return " ".join(part.split())


def _parse_rule(part: str) -> Rule:
    """One rule: `24/7`, `DAYS TIMES`, `DAYS off` or `TIMES`."""
    if part == "24/7":
        return Rule(days=tuple(range(7)), holiday=False, spans=((0, 1440),))
    tokens = part.split()
    if len(tokens) == 1:
        if tokens[0][:1].isdigit():
            return Rule(days=tuple(range(7)), holiday=False, spans=_parse_spans(tokens[0], part))
        raise ValueError(f"rule {part!r} has days but no times; write e.g. '{tokens[0]} 08:00-18:00' or '{tokens[0]} off'")
    if len(tokens) != 2:
        raise ValueError(f"rule {part!r} is not 'DAYS TIMES'; {FORM}")
    days_text, times_text = tokens
    days, holiday = _parse_days(days_text, part)
    spans = () if times_text.lower() in ("off", "closed") else _parse_spans(times_text, part)
    return Rule(days=days, holiday=holiday, spans=spans)


def _parse_days(text: str, part: str) -> tuple[tuple[int, ...], bool]:
    """`Mo-Fr`, `Mo,We,Fr`, `Sa-Mo` or `PH`."""
    if text == HOLIDAY:
        return (), True
    days: list[int] = []
    for item in text.split(","):
        ends = item.split("-")
        if len(ends) > 2 or any(e not in DAYS for e in ends):
            raise ValueError(
                f"rule {part!r}: unknown days {item!r}; expected {', '.join(DAYS)}, PH, ranges like Mo-Fr or lists like Mo,We,Fr"
            )
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        count = (last - first) % 7 + 1
        days.extend((first + i) % 7 for i in range(count))
    return tuple(sorted(set(days))), False


def _parse_spans(text: str, part: str) -> tuple[Span, ...]:
    """`08:00-12:00,13:00-16:30`: sorted, non-overlapping, each inside one day."""
    spans = []
    for item in text.split(","):
        ends = item.split("-")
        if len(ends) != 2:
            raise ValueError(f"rule {part!r}: bad time span {item!r}; expected HH:MM-HH:MM like 08:00-18:00")
        start, end = (_minutes(e, part) for e in ends)
        if end <= start:
            raise ValueError(
                f"rule {part!r}: span {item!r} does not end after it starts; spans cannot cross midnight, "
                f"split them like 'Fr 22:00-24:00; Sa 00:00-02:00'"
            )
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:]):
        if start < end:
            raise ValueError(f"rule {part!r}: time spans overlap; list them as separate, ordered spans")
    return tuple(spans)


def _minutes(text: str, part: str) -> int:
    match = _TIME.match(text)
    value = int(match[1]) * 60 + int(match[2]) if match else -1
    if not match or value > 1440:
        raise ValueError(f"rule {part!r}: bad time {text!r}; expected HH:MM between 00:00 and 24:00")
    return value


def _groups(week: list[tuple[Span, ...]]) -> list[tuple[list[int], tuple[Span, ...]]]:
    """Weekdays with equal spans, in week order; consecutive runs become ranges when spoken."""
    groups: dict[tuple[Span, ...], list[int]] = {}
    for day, spans in enumerate(week):
        groups.setdefault(spans, []).append(day)
    return sorted(((days, spans) for spans, days in groups.items()), key=lambda g: g[0][0])


def _runs(days: list[int]) -> list[tuple[int, int]]:
    """[0,1,2,4] -> [(0,2),(4,4)]."""
    runs: list[tuple[int, int]] = []
    for day in days:
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _join(items: list[str], conjunction: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


class _Words:
    """How one language speaks days, times and spans."""

    day_names: tuple[str, ...]
    to: str
    conjunction: str
    always: str
    every_day: str
    closed: str

    def days(self, days: list[int]) -> str:
        """'montags bis freitags' / 'Monday to Friday'; 3+ day runs become ranges."""
        pieces = []
        for first, last in _runs(days):
            if last - first >= 2:
                pieces.append(f"{self.day_names[first]} {self.to} {self.day_names[last]}")
            else:
                pieces.extend(self.day_names[d] for d in range(first, last + 1))
        return _join(pieces, self.conjunction)

    def spans(self, spans: tuple[Span, ...]) -> str:
        return _join([self.span(start, end) for start, end in spans], self.conjunction)

    def span(self, start: int, end: int) -> str:
        raise NotImplementedError

    def holidays(self, spans: tuple[Span, ...]) -> str:
        raise NotImplementedError

    def moment(self, minute: int) -> str:
        raise NotImplementedError


class _German(_Words):
    day_names = ("montags", "dienstags", "mittwochs", "donnerstags", "freitags", "samstags", "sonntags")
    weekday_names = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
    to = "bis"
    conjunction = "und"
    always = "rund um die Uhr"
    every_day = "täglich"
    closed = "derzeit zu keiner Zeit"

    def span(self, start: int, end: int) -> str:
        if (start, end) == (0, 1440):
            return "rund um die Uhr"
        # "von 8 bis 18 Uhr" but "von 8 Uhr 30 bis 12 Uhr": a bare start hour is clear, minutes need "Uhr".
        first = str(start // 60) if start % 60 == 0 else self.moment(start)
        return f"von {first} bis {self.moment(end)}"

    def moment(self, minute: int) -> str:
        hours, minutes = divmod(minute, 60)
        return f"{hours} Uhr" if minutes == 0 else f"{hours} Uhr {minutes}"

    def holidays(self, spans: tuple[Span, ...]) -> str:
        return f"an Feiertagen {self.spans(spans)}" if spans else "an Feiertagen geschlossen"


class _English(_Words):
    day_names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    weekday_names = day_names
    to = "to"
    conjunction = "and"
    always = "around the clock"
    every_day = "every day"
    closed = "at no time at present"

    def span(self, start: int, end: int) -> str:
        if (start, end) == (0, 1440):
            return "around the clock"
        return f"from {self.moment(start)} to {self.moment(end)}"

    def moment(self, minute: int) -> str:
        hours, minutes = divmod(minute % 1440, 60)
        if (hours, minutes) == (0, 0):
            return "midnight"
        if (hours, minutes) == (12, 0):
            return "noon"
        suffix = "am" if hours < 12 else "pm"
        clock = hours % 12 or 12
        return f"{clock} {suffix}" if minutes == 0 else f"{clock}:{minutes:02d} {suffix}"

    def holidays(self, spans: tuple[Span, ...]) -> str:
        return f"on public holidays {self.spans(spans)}" if spans else "closed on public holidays"


_GERMAN = _German()
_ENGLISH = _English()


def describe_moment(when: datetime, now: datetime, language: str) -> str:
    """When something happens, relative to now and spoken: 'morgen um 8 Uhr' / 'tomorrow at 8 am'."""
    words = _GERMAN if _base(language) == "de" else _ENGLISH
    days_ahead = (when.date() - now.date()).days
    clock = words.moment(when.hour * 60 + when.minute)
    german = words is _GERMAN
    if days_ahead == 0:
        day = "heute" if german else "today"
    elif days_ahead == 1:
        day = "morgen" if german else "tomorrow"
    elif days_ahead < 7:
        day = f"am {words.weekday_names[when.weekday()]}" if german else f"on {words.weekday_names[when.weekday()]}"
    else:
        day = f"am {when.day}.{when.month}." if german else f"on {when.strftime('%B')} {when.day}"
    return f"{day} um {clock}" if german else f"{day} at {clock}"


def in_quiet_hours(quiet: str, local_dt: datetime) -> bool:
    """Whether local_dt falls in quiet hours like '22:00-08:00' (may cross midnight; '' means never)."""
    if not quiet:
        return False
    start_text, end_text = quiet.split("-")
    start, end = _minutes(start_text, quiet), _minutes(end_text, quiet)
    minute = local_dt.hour * 60 + local_dt.minute
    # Unlike opening hours, quiet hours are a nightly habit, so a span over midnight is the normal case.
    return start <= minute < end if start <= end else minute >= start or minute < end
