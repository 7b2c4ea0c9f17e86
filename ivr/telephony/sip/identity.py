"""Who is calling: the number from an INVITE's P-Asserted-Identity (trusted peers only) or From header."""

from __future__ import annotations

import hashlib
import re

from ivr.directory.phones import caller_number

# RFC 3261 compact form of From is "f"; P-Asserted-Identity (RFC 3325) has none.
_HEADER = re.compile(r"^(?P<name>[A-Za-z-]+)[ \t]*:[ \t]*(?P<value>.*)$")
_URI_USER = re.compile(r"(?:sips?|tel):(?P<user>[^@;>\s]+)", re.IGNORECASE)


def headers(message: str) -> dict[str, list[str]]:
    """Header values by lower-case name (compact 'f' read as 'from'), up to the blank line before the body."""
    found: dict[str, list[str]] = {}
    for line in message.split("\r\n\r\n", 1)[0].splitlines()[1:]:
        match = _HEADER.match(line.strip())
        if match:
            name = match["name"].lower()
            found.setdefault({"f": "from"}.get(name, name), []).append(match["value"].strip())
    return found


def uri_user(value: str) -> str | None:
    """'"Erika" <sip:+4930123@host;user=phone>;tag=x' -> '+4930123'; None when there is no user part."""
    match = _URI_USER.search(value)
    return match["user"] if match else None


def caller_from_invite(message: str, trusted: bool, region: str = "DE") -> str | None:
    """The caller's E.164 number: P-Asserted-Identity when the peer is trusted, else From; None if withheld."""
    found = headers(message)
    candidates = []
    if trusted:
        candidates += found.get("p-asserted-identity", [])
    candidates += found.get("from", [])[:1]
    for value in candidates:
        number = caller_number(uri_user(value) or "", region)
        if number:
            return number
    return None


def call_sid(sip_call_id: str) -> str:
    """The provider call id stored with the call: 'sip-' + the SIP Call-ID (hashed when too long for the column)."""
    if len(sip_call_id) <= 56 and sip_call_id.isprintable():
        return f"sip-{sip_call_id}"
    return "sip-" + hashlib.sha256(sip_call_id.encode()).hexdigest()[:40]
