"""Who is calling and whom: the caller from an INVITE's P-Asserted-Identity (trusted peers only) or From
header, the called number from its To header or request URI (HAUSRUF_SIP_CALLED_NUMBER)."""

from __future__ import annotations

import hashlib
import re

from ivr.directory.phones import caller_number

# RFC 3261 compact forms (section 7.3.3): "f" for From, "t" for To; P-Asserted-Identity (RFC 3325) has none.
_COMPACT = {"f": "from", "t": "to"}
_HEADER = re.compile(r"^(?P<name>[A-Za-z-]+)[ \t]*:[ \t]*(?P<value>.*)$")
# A sip(s) URI has a user part only before an "@" (sip:192.0.2.1 has none); a tel URI is all number.
_URI_USER = re.compile(r"sips?:(?P<user>[^@;>\s]+)@|tel:(?P<tel>[^;>\s]+)", re.IGNORECASE)


def headers(message: str) -> dict[str, list[str]]:
    """Header values by lower-case name (compact 'f' and 't' read as 'from' and 'to'), up to the body."""
    found: dict[str, list[str]] = {}
    for line in message.split("\r\n\r\n", 1)[0].splitlines()[1:]:
        match = _HEADER.match(line.strip())
        if match:
            name = match["name"].lower()
            found.setdefault(_COMPACT.get(name, name), []).append(match["value"].strip())
    return found


def uri_user(value: str) -> str | None:
    """'"Erika" <sip:+4930123@host;user=phone>;tag=x' -> '+4930123'; None when there is no user part."""
    match = _URI_USER.search(value)
    return (match["user"] or match["tel"]) if match else None


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


def called_from_invite(message: str, where: str = "to") -> str | None:
    """The number that was called, from the To header (`to`) or the request URI (`request-uri`), as written.

    Trunks differ: a registered account often gets its own Contact as request URI and the dialled number
    in To; a trunk without registration (or a PBX) routing several numbers to one address often puts the
    number in the request URI. HAUSRUF_NUMBERS normalises what comes back (ivr.numbers.flow_for).
    """
    if where == "request-uri":
        first_line = message.lstrip().split("\r\n", 1)[0].split("\n", 1)[0]
        parts = first_line.split()
        return uri_user(parts[1]) if len(parts) == 3 else None
    values = headers(message).get("to", [])
    return uri_user(values[0]) if values else None


def call_sid(sip_call_id: str) -> str:
    """The provider call id stored with the call: 'sip-' + the SIP Call-ID (hashed when too long for the column)."""
    if len(sip_call_id) <= 56 and sip_call_id.isprintable():
        return f"sip-{sip_call_id}"
    return "sip-" + hashlib.sha256(sip_call_id.encode()).hexdigest()[:40]
