"""Phone numbers: any way people write them -> E.164, and masked for logs."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "DE"


class PhoneNumberError(ValueError):
    """A number that cannot be a real, dialable phone number."""


def normalise(text: str, region: str = DEFAULT_REGION) -> str:
    """'0271 123456', '+49 (271) 12 34 56', '0049 271 123456' -> '+49271123456'; PhoneNumberError if invalid."""
    raw = str(text or "").strip()
    if not raw:
        raise PhoneNumberError("phone number is empty")
    candidate = "+" + raw[2:] if raw.startswith("00") else raw
    try:
        parsed = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        raise PhoneNumberError(
            f"{raw!r} is not a phone number; write it like '0271 123456' or '+49 271 123456'"
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneNumberError(
            f"{raw!r} is not a valid phone number; write it like '0271 123456' or '+49 271 123456'"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def caller_number(text: str | None, region: str = DEFAULT_REGION) -> str | None:
    """E.164 for a caller id if it is a usable number, else None (withheld, 'anonymous', garbage).

    A SIP or tel URI counts by its user part: 'sip:+493023125301@pbx.example.org' is +493023125301.
    """
    text = (text or "").strip()
    scheme, colon, rest = text.partition(":")
    if colon and scheme.lower() in ("sip", "sips", "tel"):
        text = rest.split("@", 1)[0].split(";", 1)[0]
    try:
        return normalise(text, region)
    except PhoneNumberError:
        return None


SMS_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def takes_sms(number: str | None) -> bool:
    """Whether a number can receive SMS: a mobile number (German landlines mostly cannot)."""
    if not number:
        return False
    try:
        return phonenumbers.number_type(phonenumbers.parse(number, DEFAULT_REGION)) in SMS_TYPES
    except phonenumbers.NumberParseException:
        return False


def mask(number: str | None) -> str:
    """For logs: '+49271123456' -> '+49 271 ***56'; country and area code stay, the person does not."""
    if not number:
        return "(none)"
    try:
        parsed = phonenumbers.parse(number, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return "***"
    national = phonenumbers.national_significant_number(parsed)
    area_length = phonenumbers.length_of_geographical_area_code(
        parsed
    ) or phonenumbers.length_of_national_destination_code(parsed)
    area = national[:area_length] if 0 < area_length < len(national) - 2 else ""
    tail = national[-2:] if len(national) > 4 else ""
    return " ".join(p for p in (f"+{parsed.country_code}", area, f"***{tail}") if p)
