"""A local stand-in for Twilio's REST API over real HTTP, for the real twilio-python client.

Plays Messages (create, list with To/From filters) and live call updates, checks HTTP basic auth,
records every request, and can be told to fail, or to accept a message and then hang or error,
for a number of attempts; the error bodies follow Twilio's JSON error format.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "secret"
MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages\.json$")
CALL = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Calls/(?P<call>CA\w+)\.json$")
MESSAGE = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages/(?P<sid>[SM]M\w+)\.json$")
RECORDING = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Recordings/(?P<sid>RE\w+)\.(?P<ext>wav|json)$")


@dataclass
class Recorded:
    """One request as the stand-in saw it."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    authorised: bool


@dataclass
class Failure:
    """How to answer requests for one number: an error, or accept-then-hang / accept-then-500."""

    status: int
    code: int | None
    times: int | None  # None: every time
    mode: str = "error"  # "error", "hang" (create the message, then wait), "lost" (create, then answer 500)
    release: threading.Event = field(default_factory=threading.Event)


class TwilioStandIn:
    """Start with .start(); base_url goes into HAUSRUF_TWILIO_API_BASE."""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[Recorded] = []
        self.messages: list[dict] = []
        self.call_updates: list[dict] = []
        self.recordings: dict[str, bytes] = {}  # RecordingSid -> WAV bytes, put there by tests
        self.deleted_recordings: list[str] = []
        self.deleted: list[str] = []  # call and message sids deleted by DELETE (GDPR erasure)
        self.failures: dict[str, Failure] = {}
        self.arrived = threading.Condition()
        self.clock = lambda: datetime.now(timezone.utc)  # tests with a fake clock set theirs
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # -- control -------------------------------------------------------------------------------

    def start(self) -> "TwilioStandIn":
        self.server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for failure in self.failures.values():
            failure.release.set()
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def fail(self, to: str, status: int = 400, code: int | None = 21211, times: int | None = None,
             mode: str = "error") -> Failure:
        """Answer requests for `to` with an error (or accept and hang / accept and 500) `times` times."""
        failure = Failure(status, code, times, mode)
        self.failures[to] = failure
        return failure

    def messages_to(self, to: str) -> list[dict]:
        return [m for m in self.messages if m["to"] == to]

    def posts(self, path_part: str = "Messages.json") -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and path_part in r.path]

    def wait_for_posts(self, count: int, timeout: float = 10.0) -> bool:
        """Block until `count` message POSTs arrived (for tests that kill a worker mid-send)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.posts()) >= count, timeout)

    # -- Twilio ----------------------------------------------------------------------------------

    def new_message(self, form: dict[str, str]) -> dict:
        now = self.clock()
        sid = f"SM{uuid.uuid4().hex}"
        message = {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": form.get("Body", ""),
            "date_created": format_datetime(now), "date_updated": format_datetime(now), "date_sent": None,
            "direction": "outbound-api", "error_code": None, "error_message": None, "from": form.get("From"),
            "messaging_service_sid": None, "num_media": "0", "num_segments": "1", "price": None,
            "price_unit": "USD", "sid": sid, "status": "queued", "to": form.get("To"),
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        with self._lock:
            self.messages.append(message)
        return message

    def take_failure(self, to: str) -> Failure | None:
        with self._lock:
            failure = self.failures.get(to)
            if failure is None or failure.times == 0:
                return None
            if failure.times is not None:
                failure.times -= 1
            return failure


class _QuietServer(ThreadingHTTPServer):
    """Clients killed mid-request (the crash tests) are expected, not worth a traceback."""

    def handle_error(self, request, client_address):
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def error_body(status: int, code: int | None, message: str) -> dict:
    """Twilio's JSON error format."""
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


def _handler_for(standin: TwilioStandIn):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep pytest output clean
            pass

        def _authorised(self) -> bool:
            expected = base64.b64encode(f"{standin.account_sid}:{standin.auth_token}".encode()).decode()
            return self.headers.get("Authorization", "") == f"Basic {expected}"

        def _record(self, form: dict[str, str]) -> tuple[Recorded, dict[str, str]]:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            recorded = Recorded(self.command, parts.path, query, form, self._authorised())
            with standin.arrived:
                standin.requests.append(recorded)
                standin.arrived.notify_all()
            return recorded, query

        def _send(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            recorded, query = self._record({})
            match = MESSAGES.match(recorded.path)
            if not recorded.authorised:
                return self._send(401, error_body(401, 20003, "Authenticate"))
            recording = RECORDING.match(recorded.path)
            if recording and recording["ext"] == "wav" and recording["sid"] in standin.recordings:
                audio = standin.recordings[recording["sid"]]
                self.send_response(200)
                self.send_header("Content-Type", "audio/x-wav")
                self.send_header("Content-Length", str(len(audio)))
                self.end_headers()
                return self.wfile.write(audio)
            if not match or match["account"] != standin.account_sid:
                return self._send(404, error_body(404, 20404, "The requested resource was not found"))
            found = [m for m in reversed(standin.messages)  # Twilio lists newest first
                     if m["to"] == query.get("To", m["to"]) and m["from"] == query.get("From", m["from"])]
            size = int(query.get("PageSize", "50"))
            self._send(200, {"messages": found[:size], "start": 0, "end": max(0, min(size, len(found)) - 1),
                             "page": 0, "page_size": size, "first_page_uri": recorded.path,
                             "next_page_uri": None, "previous_page_uri": None, "uri": recorded.path})

        def do_DELETE(self):
            recorded, _ = self._record({})
            recording = RECORDING.match(recorded.path)
            if not recorded.authorised:
                return self._send(401, error_body(401, 20003, "Authenticate"))
            record = MESSAGE.match(recorded.path) or CALL.match(recorded.path)
            if record is not None:
                sid = record.groupdict().get("sid") or record["call"]
                with standin._lock:
                    standin.messages = [m for m in standin.messages if m["sid"] != sid]
                    standin.deleted.append(sid)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                return self.end_headers()
            if not recording or standin.recordings.pop(recording["sid"], None) is None:
                return self._send(404, error_body(404, 20404, "The requested resource was not found"))
            standin.deleted_recordings.append(recording["sid"])
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            recorded, _ = self._record(form)
            if not recorded.authorised:
                return self._send(401, error_body(401, 20003, "Authenticate"))
            message_match, call_match = MESSAGES.match(recorded.path), CALL.match(recorded.path)
            account = (message_match or call_match)["account"] if (message_match or call_match) else None
            if account != standin.account_sid:
                return self._send(404, error_body(404, 20404, "The requested resource was not found"))
            if call_match:
                return self._update_call(call_match["call"], form)
            for field_name in ("To", "From", "Body"):
                if not form.get(field_name):
                    return self._send(400, error_body(400, 21604 if field_name == "To" else 21602,
                                                      f"A '{field_name}' parameter is required."))
            failure = standin.take_failure(form["To"])
            if failure is not None and failure.mode == "error":
                return self._send(failure.status, error_body(failure.status, failure.code,
                                                             f"stand-in failure for {form['To']}"))
            message = standin.new_message(form)
            if failure is not None and failure.mode == "hang":
                failure.release.wait(60)  # the test kills the client meanwhile
                return self._send(201, message)
            if failure is not None and failure.mode == "lost":
                return self._send(failure.status, error_body(failure.status, failure.code, "Internal error"))
            self._send(201, message)

        def _update_call(self, call_sid: str, form: dict[str, str]) -> None:
            failure = standin.take_failure(call_sid)
            if failure is not None:
                return self._send(failure.status, error_body(failure.status, failure.code, "Call is not in-progress"))
            update = {"sid": call_sid, "url": form.get("Url"), "method": form.get("Method", "POST")}
            standin.call_updates.append(update)
            self._send(200, {"sid": call_sid, "account_sid": standin.account_sid, "status": "in-progress",
                             "direction": "inbound", "api_version": "2010-04-01",
                             "uri": f"/2010-04-01/Accounts/{standin.account_sid}/Calls/{call_sid}.json"})

    return Handler
