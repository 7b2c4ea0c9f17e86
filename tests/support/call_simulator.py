"""Plays Twilio against the app: posts correctly signed forms and follows the TwiML it gets back.

Works over a Flask test client or over real HTTP (requests), so tests read as calls:

    call = simulator.call("+4927150123401")
    assert "Guten Tag" in call.heard_text
    call.press("5")
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from twilio.request_validator import RequestValidator

_sids = itertools.count(1)


def new_call_sid() -> str:
    """A CallSid of Twilio's shape (CA + 32 hex digits)."""
    return f"CA{next(_sids):032x}"


@dataclass
class Reply:
    """One HTTP answer: status and body (TwiML for voice webhooks)."""

    status: int
    body: str

    @property
    def xml(self) -> ET.Element:
        return ET.fromstring(self.body)


class CallSimulator:
    """Signs and posts webhooks to the app like Twilio does."""

    def __init__(self, transport, public_url: str, auth_token: str, to_number: str = "+4927150199999"):
        self.transport = transport  # a Flask test client or a requests.Session-like with base URL
        self.public_url = public_url.rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.to_number = to_number

    def signature(self, url: str, form: dict) -> str:
        """X-Twilio-Signature for a POST of form to url."""
        return self.validator.compute_signature(url, form)

    def post(self, path: str, form: dict, signed: bool = True, signature: str | None = None) -> Reply:
        """POST a form to path (relative or absolute URL), signed against the public URL."""
        url = urljoin(self.public_url + "/", path)
        parts = urlsplit(url)
        local = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {}
        if signed:
            headers["X-Twilio-Signature"] = signature or self.signature(url, form)
        if hasattr(self.transport, "open"):  # Flask test client
            response = self.transport.post(local, data=form, headers=headers)
            return Reply(response.status_code, response.get_data(as_text=True))
        response = self.transport.post(self.transport.base_url + local, data=form, headers=headers, timeout=10)
        return Reply(response.status_code, response.text)

    def call(self, from_number: str, call_sid: str | None = None) -> "SimulatedTwilioCall":
        """Dial the hotline: the incoming-call webhook, answered with TwiML."""
        call = SimulatedTwilioCall(self, call_sid or new_call_sid(), from_number)
        call.follow(self.post("/twilio/voice", call.form()))
        return call


@dataclass
class SimulatedTwilioCall:
    """One call in progress, following TwiML as Twilio would."""

    sim: CallSimulator
    sid: str
    from_number: str
    replies: list[Reply] = field(default_factory=list)
    whispers: list[str] = field(default_factory=list)

    def form(self, **extra) -> dict:
        """The fields Twilio sends with every voice webhook, plus extra."""
        return {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.from_number,
                "To": self.sim.to_number, "CallStatus": "in-progress", "Direction": "inbound", **extra}

    def follow(self, reply: Reply) -> Reply:
        assert reply.status == 200, f"webhook answered {reply.status}: {reply.body[:300]}"
        assert reply.xml.tag == "Response", reply.body
        self.replies.append(reply)
        return reply

    @property
    def twiml(self) -> ET.Element:
        return self.replies[-1].xml

    @property
    def heard(self) -> list[str]:
        """Everything the caller hears from the last TwiML: Say texts and Play URLs."""
        return [el.text or "" for el in self.twiml.iter() if el.tag in ("Say", "Play")]

    @property
    def heard_text(self) -> str:
        return " ".join(self.heard)

    def _only(self, tag: str) -> ET.Element:
        found = list(self.twiml.iter(tag))
        assert found, f"no <{tag}> in {self.replies[-1].body}"
        return found[0]

    def press(self, digits: str) -> Reply:
        """Press keys during the current <Gather>."""
        gather = self._only("Gather")
        return self.follow(self.sim.post(gather.get("action"), self.form(Digits=digits)))

    def silence(self) -> Reply:
        """Say nothing: Twilio runs on to the <Redirect> after the <Gather>."""
        redirect = self._only("Redirect")
        return self.follow(self.sim.post(redirect.text, self.form()))

    def dial_ends(self, status: str = "completed", duration: int = 60, answer_whisper: bool = True) -> Reply:
        """The <Dial> ends with DialCallStatus; the callee first fetches the whisper when it answers."""
        dial = self._only("Dial")
        if answer_whisper and status in ("completed", "answered"):
            for number in dial.iter("Number"):
                if number.get("url"):
                    reply = self.sim.post(number.get("url"), self.form(CallSid=new_call_sid(), ParentCallSid=self.sid))
                    assert reply.status == 200
                    self.whispers.extend(el.text or "" for el in reply.xml.iter("Say"))
        return self.follow(self.sim.post(dial.get("action"), self.form(DialCallStatus=status,
                                                                     DialCallDuration=str(duration))))

    def record(self, recording_sid: str = "RE" + "1" * 32, seconds: int = 8) -> Reply:
        """The caller speaks a message into <Record>."""
        record = self._only("Record")
        return self.follow(self.sim.post(record.get("action"), self.form(
            RecordingSid=recording_sid, RecordingDuration=str(seconds),
            RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/{recording_sid}")))

    def hang_up(self, duration: int = 42) -> Reply:
        """The caller hangs up: Twilio's status callback."""
        return self.sim.post("/twilio/status", self.form(CallStatus="completed", CallDuration=str(duration)))
