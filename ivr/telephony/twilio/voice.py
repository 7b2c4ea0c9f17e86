"""Twilio voice as a TelephonyAdapter (ivr.telephony.ports): TwiML out, REST to move calls on and handle recordings."""

from __future__ import annotations

from pathlib import Path
import logging
from urllib.parse import urlencode, urlsplit

import requests

from ivr.config import Settings
from ivr.telephony.ports import StepResult
from ivr.telephony.twilio import translate
from ivr.telephony.twilio.client import API_BASE, TwilioRestClient

PROVIDER = "twilio"
log = logging.getLogger("hausruf.recordings")


class TwilioVoice:
    """The Twilio adapter's side of the telephony port; the webhooks (webhooks.py) drive the CallService."""

    provider = PROVIDER

    def __init__(self, settings: Settings, prompt_url=None, speech_streams=None):
        self.settings = settings
        self.prompt_url = prompt_url or (lambda text, language: None)
        self.speech_streams = speech_streams
        self._client: TwilioRestClient | None = None

    @property
    def client(self) -> TwilioRestClient:
        """The REST client, built on first use (ValueError without credentials)."""
        if self._client is None:
            self._client = TwilioRestClient(self.settings)
        return self._client

    def render(self, call_id: str, result: StepResult) -> str:
        """TwiML for the actions of a stored step."""
        speech = self.speech_streams
        stream = speech.stream_for(call_id, result) if speech else None
        stop = speech.stop_for(call_id, result) if speech else None
        return translate.render(result.actions, result.step, self.prompt_url, caller_id=self.settings.phone_number,
                                stream=stream, stop_stream=stop)

    def move_on(self, call_id: str, step: int, phrase: str) -> None:
        """Redirect the live call to the speech step (Twilio "Modify a live call")."""
        url = f"{self.settings.public_url}/twilio/voice/speech?" + urlencode({"step": step, "phrase": phrase})
        self.client.redirect_call(call_id, url)

    def fetch_recording(self, reference: str, target: Path, location: str | None = None) -> Path:
        """Download the recording (a RecordingSid) as WAV, written atomically.

        A plain authenticated GET: twilio-python reads every response as text, which would garble audio.
        """
        settings = self.settings
        response = requests.get(self.recording_url(reference, location),
                                auth=(settings.twilio_account_sid, settings.twilio_auth_token), timeout=60)
        response.raise_for_status()
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(response.content)
        partial.replace(target)
        return target

    def recording_url(self, reference: str, given: str | None = None) -> str:
        """The WAV of a recording: RecordingUrl + ".wav" as Twilio gave it, else built from our account.

        Twilio's RecordingUrl may name another (sub)account or region than ours; it is followed only on
        the API's own host, because our credentials go with the request.
        """
        api = (self.settings.twilio_api_base or API_BASE).rstrip("/")
        if given:
            if (urlsplit(given).netloc == urlsplit(api).netloc and urlsplit(given).scheme == urlsplit(api).scheme
                    and reference in given):
                return given.removesuffix(".wav").removesuffix(".mp3") + ".wav"
            log.warning("RecordingUrl of %s is not on %s; fetching it from our own account instead", reference, api)
        return f"{api}/2010-04-01/Accounts/{self.settings.twilio_account_sid}/Recordings/{reference}.wav"

    def delete_recording(self, reference: str) -> bool:
        """Delete Twilio's copy; False if it has none."""
        return self.client.delete_recording(reference)
