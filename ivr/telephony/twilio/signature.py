"""Twilio request signatures, checked against the public URL the operator configured.

request.url is wrong behind a TLS-terminating proxy (it says http://127.0.0.1:5000/...), so the
URL Twilio signed is rebuilt from HAUSRUF_PUBLIC_URL + path + query string.
"""

from __future__ import annotations

import functools
import hmac
import logging

from flask import Response, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger("hausruf.twilio")


def signed_url(public_url: str, path: str, query: bytes | str) -> str:
    """The URL Twilio signed for a request to path?query on our public base URL."""
    query = query.decode("latin-1") if isinstance(query, bytes) else query
    return f"{public_url.rstrip('/')}{path}" + (f"?{query}" if query else "")


def is_valid_request() -> bool:
    """True when the current request carries a valid X-Twilio-Signature."""
    settings = current_app.config["HAUSRUF"]
    signature = request.headers.get("X-Twilio-Signature", "")
    if not settings.twilio_auth_token or not settings.public_url:
        log.error("rejecting %s: TWILIO_AUTH_TOKEN and HAUSRUF_PUBLIC_URL must both be set", request.path)
        return False
    if not signature:
        return False
    url = signed_url(settings.public_url, request.path, request.query_string)
    params = request.form.to_dict(flat=True) if request.method == "POST" else {}
    validator = RequestValidator(settings.twilio_auth_token)
    # Most requests are signed for exactly this URL: one HMAC. validate() also tries the URL with and
    # without an explicit port (Twilio signs either way) and costs three times as much.
    expected = validator.compute_signature(url, params).encode()
    if hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        return True
    return validator.validate(url, params, signature)


def twilio_signed(view):
    """Refuse requests without a valid signature with 403, logged without the caller's full number."""

    @functools.wraps(view)
    def checked(*args, **kwargs):
        if not is_valid_request():
            from ivr.directory.phones import mask

            log.warning("403 for %s %s from %s (caller %s): missing or bad X-Twilio-Signature",
                        request.method, request.path, request.remote_addr, mask(request.form.get("From") or ""))
            return Response("forbidden: bad or missing Twilio signature\n", status=403, mimetype="text/plain")
        return view(*args, **kwargs)

    return checked
