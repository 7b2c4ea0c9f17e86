"""Emergency numbers the hotline never dials: a call it forwards would carry the trunk's location, not the caller's.

So the emergency path tells callers to hang up and dial 112 themselves; `hausruf check` refuses a flow
that dials these numbers, and the engine drops them from any dial (a partner or staff number set to 112).
"""

from __future__ import annotations

import re

EMERGENCY_NUMBERS = ("110", "112")  # police; fire and ambulance (EU-wide)


def is_emergency_number(number: str) -> bool:
    """True for 110 and 112, written alone or after a country code (`+49 112`, `0049112`)."""
    digits = re.sub(r"[^\d+]", "", number)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+"):
        return any(digits[1 + length:] in EMERGENCY_NUMBERS for length in (1, 2, 3))  # country codes: 1-3 digits
    return digits in EMERGENCY_NUMBERS
