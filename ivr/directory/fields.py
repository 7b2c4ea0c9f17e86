"""Field parsers for directory rows: each turns a raw value into a clean one or raises ValueError with the allowed form."""

from __future__ import annotations

import re
from typing import Any

from ivr.directory.phones import normalise
from ivr.flows.model import SERVICE_KINDS
from ivr.hours import OpeningHours

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CLOCK = r"([01]\d|2[0-3]):[0-5]\d"
_QUIET = re.compile(rf"^{_CLOCK}-{_CLOCK}$")
ALL_REGIONS = "all"

# Languages a tenant or volunteer may be greeted in, as ISO 639-1 codes; the flows decide which are spoken.
LANGUAGES = (
    "ar", "bg", "bs", "cs", "da", "de", "el", "en", "es", "fa", "fi", "fr", "hr", "hu", "it", "ko", "ku",
    "lt", "lv", "nl", "no", "pl", "pt", "ro", "ru", "sk", "sl", "sq", "sr", "sv", "tr", "uk", "vi", "zh",
)
# Matrix identifiers (spec, "Identifier Grammar"): @localpart:server, #alias:server, !opaque:server.
_MATRIX_USER = re.compile(r"^@[a-z0-9._=/+-]+:[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
# Room ids of room version 12 and later carry no server part ("!31hneApxJ_1o-63S4k9vBU7lxFsgL5...").
_MATRIX_ROOM = re.compile(r"^(#[^:\s]+:[A-Za-z0-9.-]+(:[0-9]{1,5})?|![^:\s]+(:[A-Za-z0-9.-]+(:[0-9]{1,5})?)?)$")
_TRUE = {"true", "yes", "ja", "1", "on", "y", "x"}
_FALSE = {"false", "no", "nein", "0", "off", "n", ""}


def text(value: Any) -> str:
    """Any scalar as trimmed text."""
    if isinstance(value, (list, dict)):
        raise ValueError(f"expected text, got a {'list' if isinstance(value, list) else 'mapping'}")
    if value is None:
        return ""
    raw = str(value).strip()
    # Multi-line text (notes, whispers) keeps its lines; one-liners lose stray inner spaces.
    return raw if "\n" in raw else " ".join(raw.split())


def slug(value: Any) -> str:
    """An id like 'siegen' or 'haus-am-hang': lower case letters, digits, '-' and '_'."""
    result = text(value)
    if not _SLUG.match(result):
        raise ValueError(f"{result!r} is not an id; use lower case letters, digits, '-' and '_', like 'haus-am-hang'")
    return result


def items(value: Any) -> list[str]:
    """A YAML list, or a CSV cell with items separated by ',', ';' or '|'."""
    if value is None:
        return []
    if isinstance(value, list):
        return [text(v) for v in value if text(v)]
    return [part.strip() for part in re.split(r"[,;|]", text(value)) if part.strip()]


def phone(value: Any) -> str:
    """A phone number in any common format -> E.164."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # YAML reads +49301234 or 0301234 as a number and drops the '+' or the leading 0.
        raise ValueError(f"phone number {value} was read as a number; put it in quotes, like \"+49 30 1234567\"")
    return normalise(text(value))


def phones(value: Any) -> tuple[str, ...]:
    """One or more phone numbers -> E.164, at least one, no repeats."""
    numbers = [phone(v) for v in items(value)]
    if not numbers:
        raise ValueError("at least one phone number is needed")
    if len(set(numbers)) != len(numbers):
        raise ValueError("the same number is listed twice")
    return tuple(numbers)


def language(value: Any) -> str:
    """An ISO 639-1 code from LANGUAGES."""
    result = text(value).lower()
    if result not in LANGUAGES:
        raise ValueError(f"unknown language {result!r}; expected one of: {', '.join(LANGUAGES)}")
    return result


def flag(value: Any) -> bool:
    """true/false, yes/no, ja/nein, 1/0."""
    if isinstance(value, bool):
        return value
    result = text(value).lower()
    if result in _TRUE:
        return True
    if result in _FALSE:
        return False
    raise ValueError(f"{result!r} is not yes or no; expected true or false")


def service_kind(value: Any) -> str:
    """One of SERVICE_KINDS."""
    result = text(value)
    if result not in SERVICE_KINDS:
        raise ValueError(f"unknown service kind {result!r}; expected one of: {', '.join(SERVICE_KINDS)}")
    return result


def opening_hours(value: Any) -> str:
    """Opening hours text, checked and normalised by ivr.hours."""
    return OpeningHours.parse(text(value)).text


def quiet_hours(value: Any) -> str:
    """'22:00-08:00' (may cross midnight) or empty for none."""
    result = text(value)
    if result and not _QUIET.match(result):
        raise ValueError(f"quiet hours {result!r} are not HH:MM-HH:MM; write them like '22:00-08:00'")
    return result


def regions(value: Any) -> tuple[str, ...]:
    """Region ids served, or 'all' for every region of the cooperative."""
    found = items(value)
    if found == [ALL_REGIONS]:
        return (ALL_REGIONS,)
    if not found:
        raise ValueError(f"at least one region is needed, or '{ALL_REGIONS}'")
    return tuple(slug(v) for v in found)


def matrix_user(value: Any) -> str:
    """A Matrix user ID such as @jonas:talblick.example (empty: none)."""
    result = text(value)
    if result and not _MATRIX_USER.match(result):
        raise ValueError(f"{result!r} is not a Matrix user ID; write it like '@jonas:talblick.example' "
                         "(lower case name, then ':' and the server)")
    return result


def matrix_room(value: Any) -> str:
    """A Matrix room alias (#name:server) or room id (!id:server) (empty: none)."""
    result = text(value)
    if result and not _MATRIX_ROOM.match(result):
        raise ValueError(f"{result!r} is not a Matrix room; write an alias like '#lindenhof:talblick.example' "
                         "or a room id like '!abc123:talblick.example'")
    return result
