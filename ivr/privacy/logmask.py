"""One log filter for every logger: phone numbers and SIP URIs are masked before any handler sees them.

Installed as the log record factory, so it covers every logger of the process, the twilio library's
(which logs the query parameters of its REST calls, e.g. `To=%2B4930...`) and SQLAlchemy's included,
whatever handlers they have. Exception texts are masked too: a Twilio error repeats the number, a
database error its bound parameters (the engines also hide those, see ivr.db.engine).
"""

from __future__ import annotations

import logging
import re

# Something that looks like a phone number: an international prefix (+, URL-encoded %2B, 00) or a
# national 0 followed by 6+ more digits in groups, or 8+ digits in a row. Times ("11:13:26"),
# dates ("2026-11-27"), decimals, UUIDs, ids inside words ("CA12ab...") and short counts stay readable.
PHONE = re.compile(
    r"(?<![\w%])(?<!\d\.)(?<![0-9a-fA-F]-)(?:(?:\+|%2[bB]|\b00)\d[\d \-/().]{5,}\d|\b0\d[\d \-/()]{5,}\d|\b\d{8,})(?![\w])"
)
# sip:user@host, sips:..., tel:+49...: the user part is the person.
SIP_URI = re.compile(r"\b(sips?|tel):([^@\s;>\"']+)(@)?", re.IGNORECASE)
MASK = "***"


def mask_text(text: str) -> str:
    """The text with every phone number shortened to its last two digits and every SIP user masked."""
    text = SIP_URI.sub(_mask_uri, text)
    return PHONE.sub(_mask_number, text)


def _mask_number(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0).replace("%2B", "").replace("%2b", ""))
    if not 7 <= len(digits) <= 15:  # E.164 has at most 15 digits; longer runs are hashes or ids
        return match.group(0)
    prefix = "+" if match.group(0)[0] in "+%" else ""
    return f"{prefix}{MASK}{digits[-2:]}"


def _mask_uri(match: re.Match) -> str:
    return f"{match.group(1)}:{MASK}{match.group(3) or ''}"


class MaskingFilter(logging.Filter):
    """Rewrites a record's message and exception text with mask_text; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "hausruf_masked", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logging's to report, not ours
            return True
        record.msg, record.args = mask_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        record.hausruf_masked = True
        return True


_FILTER = MaskingFilter()


def install() -> None:
    """Mask every record of every logger in this process (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "hausruf_masking", False):
        return

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _FILTER.filter(record)
        return record

    masked_record.hausruf_masking = True
    logging.setLogRecordFactory(masked_record)
    for handler in logging.getLogger().handlers:  # records made before install() reach handlers too
        handler.addFilter(_FILTER)
