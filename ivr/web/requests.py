"""The app's request class: Twilio's small url-encoded webhook forms parsed on a short path."""

from __future__ import annotations

from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" decoding error handler
from flask import Request

URLENCODED = "application/x-www-form-urlencoded"


class HausrufRequest(Request):
    """Flask's request; an url-encoded body is parsed straight from the stream.

    Every Twilio webhook is such a form, and werkzeug's general form parser (content-type options,
    parser objects, multipart dispatch) cost twice the parsing itself (bench/webhooks.py). The
    result is what werkzeug would give (the same decoding, the same limits: the stream stops at
    MAX_CONTENT_LENGTH; an empty stream afterwards), except that raw bytes which are not UTF-8 are
    kept percent-quoted where werkzeug would drop the whole form. Anything else goes to werkzeug.
    """

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        content_type = self.environ.get("CONTENT_TYPE", "")
        if content_type.partition(";")[0].strip().lower() != URLENCODED:
            super()._load_form_data()
            return
        stream = self.stream
        items = parse_qsl(stream.read().decode("utf-8", "werkzeug.url_quote"), keep_blank_values=True, errors="werkzeug.url_quote")
        self.__dict__.update(stream=stream, form=self.parameter_storage_class(items),
                             files=self.parameter_storage_class())
