"""Spoken messages: fetched from Twilio, transcribed offline, attached to their task, deleted in time.

The audio is copied to our server and then deleted at Twilio, so a caller's voice is kept in one
place only; the local copy is deleted after HAUSRUF_RECORDING_RETENTION_DAYS (default 30). The
transcript uses the model's full vocabulary: a message can be about anything.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.config import Settings
from ivr.db.models import Call, CallbackTask

log = logging.getLogger("hausruf.recordings")
DEFAULT_RETENTION_DAYS = 30
SIP_PREFIX = "sip-"  # references of messages the SIP line recorded itself (no provider copy)


def retention_days() -> int:
    """How long local recordings are kept, from HAUSRUF_RECORDING_RETENTION_DAYS."""
    from ivr.config import integer

    raw = os.environ.get("HAUSRUF_RECORDING_RETENTION_DAYS", "").strip()  # declared in ivr.config.Settings
    return integer(minimum=1)(raw) if raw else DEFAULT_RETENTION_DAYS


def local_path(settings: Settings, recording_sid: str) -> Path:
    """Where our copy of a recording lives."""
    return settings.recordings_dir / f"{recording_sid}.wav"


def _api(settings: Settings) -> str:
    return (settings.twilio_api_base or "https://api.twilio.com").rstrip("/")


def recording_url(settings: Settings, recording_sid: str, given: str | None = None) -> str:
    """The WAV of a recording: RecordingUrl + ".wav" as Twilio gave it, else built from our account.

    Twilio's RecordingUrl may name another (sub)account or region than ours; it is followed only on
    the API's own host, because our credentials go with the request.
    """
    api = _api(settings)
    if given:
        if urlsplit(given).netloc == urlsplit(api).netloc and urlsplit(given).scheme == urlsplit(api).scheme \
                and recording_sid in given:
            return given.removesuffix(".wav").removesuffix(".mp3") + ".wav"
        log.warning("RecordingUrl of %s is not on %s; fetching it from our own account instead", recording_sid, api)
    return f"{api}/2010-04-01/Accounts/{settings.twilio_account_sid}/Recordings/{recording_sid}.wav"


def fetch_recording(settings: Settings, recording_sid: str, url: str | None = None) -> Path:
    """Download the recording as WAV (Twilio serves RecordingUrl + ".wav"), written atomically.

    A plain authenticated GET: twilio-python reads every response as text, which would garble audio.
    """
    url = recording_url(settings, recording_sid, url)
    response = requests.get(url, auth=(settings.twilio_account_sid, settings.twilio_auth_token), timeout=60)
    response.raise_for_status()
    target = local_path(settings, recording_sid)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(response.content)
    partial.replace(target)
    return target


def delete_at_twilio(settings: Settings, recording_sid: str) -> None:
    """Remove Twilio's copy once ours is safe; a copy already gone is fine."""
    from ivr.telephony.twilio.client import TwilioRestClient

    TwilioRestClient(settings).delete_recording(recording_sid)


def transcribe_message(session: Session, settings: Settings, models, recording_sid: str,
                       url: str | None = None) -> CallbackTask | None:
    """Fetch, transcribe and attach one recording to the task that references it; None if no task yet."""
    from speech.transcribe import transcribe_wav

    task = session.scalar(select(CallbackTask).where(CallbackTask.recording_ref == recording_sid))
    if task is None:
        return None
    path = local_path(settings, recording_sid)
    local_only = recording_sid.startswith(SIP_PREFIX)  # recorded by `hausruf sip` on this server
    if not path.exists():
        if local_only:
            log.warning("message %s: the recording is gone; kept without transcript", recording_sid)
            task.transcript = ""
            return task
        path = fetch_recording(settings, recording_sid, url)
    language = session.scalar(select(Call.flow_language).where(Call.id == task.call_id)) or settings.default_language
    if language in models.languages:
        task.transcript = transcribe_wav(path, models.get(language))[:4000]
    else:
        log.warning("no Vosk model for '%s': message %s kept without transcript", language, recording_sid)
        task.transcript = ""  # looked at; staff listen to the recording instead
    if not local_only:
        delete_at_twilio(settings, recording_sid)
    return task


def purge_recordings(settings: Settings, now: datetime | None = None, days: int | None = None) -> int:
    """Delete local recordings older than the retention period; returns how many were deleted."""
    folder = settings.recordings_dir
    if not folder.is_dir():
        return 0
    cutoff = (now.timestamp() if now else time.time()) - (days if days is not None else retention_days()) * 86400
    deleted = 0
    for path in folder.glob("*.wav"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted
