"""The app's request class parses url-encoded forms exactly as werkzeug does, and leaves others to it."""

from __future__ import annotations

import io

import pytest
from flask import Request
from werkzeug.test import EnvironBuilder

from ivr.web.requests import HausrufRequest

BODIES = [
    b"CallSid=CA1&From=%2B493023125301&Digits=%2A",
    b"SpeechResult=gr%C3%BC%C3%9Fe+Gott&Confidence=0.9",  # percent-encoded UTF-8, + for space
    b"Digits=&Empty&From=+49",  # blank values are kept
    b"a=1&a=2&b=3",  # repeated names keep every value
    b"a=1;b=2",  # ; is not a separator (Python 3.10+, as in werkzeug)
    b"bad=%ZZ&pct=100%",  # broken escapes stay as they are
    b"x=%ff",  # an escaped byte that is not UTF-8
    b"",
]


def _requests(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> tuple[Request, Request]:
    environ = EnvironBuilder(method="POST", path="/twilio/voice", data=body, content_type=content_type).get_environ()
    ours = dict(environ, **{"wsgi.input": io.BytesIO(body)})
    return HausrufRequest(ours), Request(environ)


@pytest.mark.parametrize("body", BODIES)
def test_url_encoded_forms_parse_as_in_werkzeug(body):
    ours, werkzeugs = _requests(body)
    assert list(ours.form.items(multi=True)) == list(werkzeugs.form.items(multi=True))
    assert ours.files == werkzeugs.files
    assert ours.get_data() == werkzeugs.get_data() == b""  # the body was read into the form


def test_raw_bytes_that_are_not_utf8_are_kept_quoted_where_werkzeug_drops_the_whole_form():
    ours, werkzeugs = _requests(b"From=%2B49301&raw=\xc3\xa4\xff")
    assert list(ours.form.items(multi=True)) == [("From", "+49301"), ("raw", "ä%FF")]
    assert not werkzeugs.form


def test_a_charset_in_the_content_type_is_still_a_url_encoded_form():
    ours, _ = _requests(b"Digits=1", "application/x-www-form-urlencoded; charset=UTF-8")
    assert ours.form["Digits"] == "1"


def test_multipart_forms_go_to_werkzeug():
    environ = EnvironBuilder(method="POST", path="/x", data={"Digits": "5", "file": (io.BytesIO(b"abc"), "a.txt")}
                             ).get_environ()
    request = HausrufRequest(environ)
    assert request.form["Digits"] == "5" and request.files["file"].read() == b"abc"


def test_the_content_length_limit_still_applies():
    ours, _ = _requests(b"Digits=1&Pad=" + b"x" * 2000)
    ours.max_content_length = 1000
    from werkzeug.exceptions import RequestEntityTooLarge

    with pytest.raises(RequestEntityTooLarge):
        ours.form


def test_a_chunked_form_without_content_length_goes_to_werkzeug():
    body = b"CallSid=CA1&Digits=4"
    environ = EnvironBuilder(method="POST", path="/twilio/voice", data=body,
                             content_type="application/x-www-form-urlencoded").get_environ()
    del environ["CONTENT_LENGTH"]
    environ.update({"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True})  # as gunicorn marks chunked input
    assert HausrufRequest(environ).form.to_dict() == {"CallSid": "CA1", "Digits": "4"}
