"""The one log filter: phone numbers and SIP URIs masked in every logger's records, exceptions included."""

from __future__ import annotations

import logging

import pytest

from ivr.privacy import logmask


@pytest.mark.parametrize("text, masked", [
    ("call from +49 30 23125301 to +4927150199999", "call from +***01 to +***99"),
    ("GET /2010-04-01/Messages.json?To=%2B493023125301&PageSize=50", "GET /2010-04-01/Messages.json?To=+***01&PageSize=50"),
    ("Rückruf an 030 23125301 bitte", "Rückruf an ***01 bitte"),
    ("0049 30 23125301", "***01"),
    ("(030) 2312-5301", "(***01"),
    ("INVITE sip:+493023125301@pbx.example.org;transport=udp", "INVITE sip:***@pbx.example.org;transport=udp"),
    ("From: <sips:erika.becker@10.0.0.1>", "From: <sips:***@10.0.0.1>"),
    ("[parameters: ('+493023125301', 5)]", "[parameters: ('+***01', 5)]"),
    # What must stay readable: times, dates, ids, counts, task numbers.
    ("2026-11-27 11:13:26,123 task #17, 3 of 20", "2026-11-27 11:13:26,123 task #17, 3 of 20"),
    ("call CA0123456789abcdef0123456789abcdef step 12", "call CA0123456789abcdef0123456789abcdef step 12"),
    ("sleeping for 0.99786512 s, job ce920af1-1234-5678-9abc-14c1b12ff835", "sleeping for 0.99786512 s, job ce920af1-1234-5678-9abc-14c1b12ff835"),
    ("revision 0000000000000000 (16 digits, longer than any phone number)", "revision 0000000000000000 (16 digits, longer than any phone number)"),
])
def test_numbers_and_sip_users_are_masked(text, masked):
    assert logmask.mask_text(text) == masked


def test_every_logger_is_masked_including_libraries_and_tracebacks(caplog):
    logmask.install()
    logmask.install()  # idempotent
    with caplog.at_level(logging.INFO):
        logging.getLogger("twilio.http_client").info("Query Params: {'To': '+493023125301'}")
        logging.getLogger("sqlalchemy.engine.Engine").info("[generated] %r", ("+493023125301",))
        try:
            raise RuntimeError("Twilio 21211: The 'To' number +493023125301 is not a valid phone number")
        except RuntimeError:
            logging.getLogger("hausruf.sms").exception("SMS to %s failed", "+493023125301")
    text = caplog.text
    assert "23125301" not in text and "+***01" in text and "21211" in text
