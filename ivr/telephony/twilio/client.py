"""The Twilio REST client: send an SMS, list recent ones, move a live call to new TwiML, delete a recording.

Everything that talks to api.twilio.com is here, so the translators stay pure and tests can point
this one object at a local stand-in (HAUSRUF_TWILIO_API_BASE) and still use the real twilio-python.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ivr.config import Settings
from ivr.telephony.ports import ChannelError, SentMessage

TIMEOUT_SECONDS = 15
API_BASE = "https://api.twilio.com"


class TwilioError(ChannelError):
    """A REST call failed; code is Twilio's error code (e.g. 21211) when it sent one.

    permanent: retrying the same request cannot help (4xx other than 429).
    maybe_done: the request may have taken effect although we saw no answer (network error, 5xx),
    so a retry must first check whether it did.
    """

    def __init__(self, message: str, code: int | None, status: int | None, permanent: bool, maybe_done: bool):
        super().__init__(message, code, permanent, maybe_done)
        self.status = status


class RebasedHttpClient(TwilioHttpClient):
    """Sends every request to another scheme and host (a local stand-in), keeping path and query."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        parts = urlsplit(base_url)
        self.scheme, self.netloc = parts.scheme, parts.netloc

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        return super().request(method, urlunsplit((self.scheme, self.netloc, parts.path, parts.query, "")),
                               *args, **kwargs)


def _error(exc: Exception) -> TwilioError:
    """Sort a failure into permanent, temporary, or possibly done (Twilio docs: "Errors and warnings")."""
    if isinstance(exc, TwilioRestException):
        status = int(exc.status)
        code = int(exc.code) if isinstance(exc.code, int) or str(exc.code).isdigit() else None
        # 429 "Too Many Requests" (error 20429) was refused before anything happened; a 5xx may
        # have been processed before the failure, so it is only maybe-not-done.
        temporary = status == 429 or status >= 500
        return TwilioError(f"Twilio answered {status} (error {code}): {exc.msg}", code, status,
                           permanent=not temporary, maybe_done=status >= 500)
    return TwilioError(f"no answer from Twilio: {exc.__class__.__name__}: {exc}", None, None,
                       permanent=False, maybe_done=True)


class TwilioRestClient:
    """A thin, typed wrapper over twilio.rest.Client for the calls Hausruf makes."""

    def __init__(self, settings: Settings):
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            raise ValueError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set to send SMS or update calls")
        http = (RebasedHttpClient(settings.twilio_api_base, timeout=TIMEOUT_SECONDS) if settings.twilio_api_base
                else TwilioHttpClient(timeout=TIMEOUT_SECONDS))
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http)
        self.from_number = settings.phone_number or ""

    def send_sms(self, to: str, body: str, status_callback_url: str | None = None) -> str:
        """Hand one SMS to Twilio; its MessageSid (SM...); TwilioError on failure."""
        options = {"status_callback": status_callback_url} if status_callback_url else {}
        try:
            message = self.client.messages.create(to=to, from_=self.from_number, body=body, **options)
        except (TwilioRestException, requests.RequestException) as exc:
            raise _error(exc) from exc
        return message.sid

    def recent_messages(self, to: str, since: datetime | None = None, limit: int | None = None) -> list[SentMessage]:
        """Messages from our number to `to`, newest first, page after page until one is older than since."""
        found = []
        try:
            for m in self.client.messages.stream(to=to, from_=self.from_number, limit=limit, page_size=50):
                if since is not None and m.date_created is not None and m.date_created < since:
                    break  # Twilio lists newest first: everything after this is older too
                found.append(SentMessage(m.sid, m.to, m.body or "", m.date_created))
        except (TwilioRestException, requests.RequestException) as exc:
            raise _error(exc) from exc
        return found

    def redirect_call(self, call_sid: str, url: str) -> None:
        """Move a live call to the TwiML at url (Twilio "Modify a live call": POST Url, Method)."""
        try:
            self.client.calls(call_sid).update(url=url, method="POST")
        except (TwilioRestException, requests.RequestException) as exc:
            raise _error(exc) from exc

    def delete_recording(self, recording_sid: str) -> bool:
        """Delete Twilio's copy of a recording; False if Twilio has none (already deleted)."""
        try:
            self.client.recordings(recording_sid).delete()
        except TwilioRestException as exc:
            if int(exc.status) == 404:
                return False
            raise _error(exc) from exc
        except requests.RequestException as exc:
            raise _error(exc) from exc
        return True
