"""Our one-HMAC signature check agrees with Twilio's RequestValidator for every kind of form."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from ivr.telephony.twilio.signature import expected_signature

URL = "https://hotline.example.org/twilio/voice/gather?step=3"


@pytest.mark.parametrize("form", [
    {},
    {"CallSid": "CA1", "From": "+493023125301", "Digits": "*"},
    {"SpeechResult": "Grüß Gott, ich hätte gern Essen", "Confidence": "0.93"},  # non-ASCII
    {"Digits": "", "From": ""},  # blank values
    {"b": "2", "a": "1", "B": "3", "a_b": "&=?#"},  # name order and characters that mean something in URLs
])
def test_our_signature_is_twilios(form):
    assert expected_signature("secret", URL, form) == RequestValidator("secret").compute_signature(URL, form).encode()
