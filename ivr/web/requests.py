"""The app's request class: Twilio's small url-encoded webhook forms parsed on a short path."""

from __future__ import annotations

import io
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" decoding error handler
from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

URLENCODED = "application/x-www-form-urlencoded"


class HausrufRequest(Request):
    """Flask's request; an url-encoded body is parsed straight from the stream.

    Every Twilio webhook is such a form, and werkzeug's general form parser (content-type options,
    parser objects, multipart dispatch, a length-limited stream around the input) cost twice the
    parsing itself (bench/webhooks.py). The result is what werkzeug would give (the same decoding,
    the same limits: a body over MAX_CONTENT_LENGTH is refused with 413; an empty stream
    afterwards), except that raw bytes which are not UTF-8 are kept percent-quoted where werkzeug
    would drop the whole form. Other forms, and bodies without a Content-Length (chunked), go to
    werkzeug.
    """

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        environ = self.environ
        length = self.content_length
        if (length is None or environ.get("wsgi.input_terminated")
                or environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() != URLENCODED):
            super()._load_form_data()
            return
        limit = self.max_content_length
        if limit is not None and length > limit:
            raise RequestEntityTooLarge()  # as werkzeug's input stream would on the first read
        body = environ["wsgi.input"].read(length) if length else b""
        items = parse_qsl(body.decode("utf-8", "werkzeug.url_quote"), keep_blank_values=True, errors="werkzeug.url_quote")
        self.__dict__.update(stream=io.BytesIO(), form=self.parameter_storage_class(items),
                             files=self.parameter_storage_class())
