"""Twilio request signatures, checked against the public URL the operator configured.

request.url is wrong behind a TLS-terminating proxy (it says http://127.0.0.1:5000/...), so the
URL Twilio signed is rebuilt from HAUSRUF_PUBLIC_URL + path + query string.
"""

from __future__ import annotations

import functools
import logging

from flask import Request, Response, current_app, request
from twilio.request_validator import RequestValidator

from ivr.config import Settings

log = logging.getLogger("hausruf.twilio")


def signed_url(public_url: str, path: str, query: bytes | str) -> str:
    """The URL Twilio signed for a request to path?query on our public base URL."""
    query = query.decode("latin-1") if isinstance(query, bytes) else query
    return f"{public_url.rstrip('/')}{path}" + (f"?{query}" if query else "")


def is_valid_request(req: Request, settings: Settings) -> bool:
    """True when req carries a valid X-Twilio-Signature."""
    signature = req.headers.get("X-Twilio-Signature", "")
    if not settings.twilio_auth_token or not settings.public_url:
        log.error("rejecting %s: TWILIO_AUTH_TOKEN and HAUSRUF_PUBLIC_URL must both be set", req.path)
        return False
    if not signature:
        return False
    url = signed_url(settings.public_url, req.path, req.query_string)
    params = req.form.to_dict(flat=True) if req.method == "POST" else {}
    return RequestValidator(settings.twilio_auth_token).validate(url, params, signature)


def twilio_signed(view):
    """Refuse requests without a valid signature with 403, logged without the caller's full number."""

    @functools.wraps(view)
    def checked(*args, **kwargs):
        req = request._get_current_object()
        if not is_valid_request(req, current_app.config["HAUSRUF"]):
            from ivr.directory.phones import mask

            log.warning("403 for %s %s from %s (caller %s): missing or bad X-Twilio-Signature",
                        req.method, req.path, req.remote_addr, mask(req.form.get("From") or ""))
            return Response("forbidden: bad or missing Twilio signature\n", status=403, mimetype="text/plain")
        return view(*args, **kwargs)

    return checked
