"""Spoken messages: fetched through the call's telephony adapter, transcribed offline, attached, deleted in time.

The audio is copied to our server and then deleted at the provider, so a caller's voice is kept in one
place only; the local copy is deleted after HAUSRUF_RECORDING_RETENTION_DAYS (default 30). The
transcript uses the model's full vocabulary: a message can be about anything.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy.orm import Session

from ivr.config import Settings
from ivr.db.models import Call, CallbackTask
from ivr.telephony.ports import TelephonyAdapter

log = logging.getLogger("hausruf.recordings")
DEFAULT_RETENTION_DAYS = 30


def retention_days() -> int:
    """How long local recordings are kept, from HAUSRUF_RECORDING_RETENTION_DAYS."""
    from ivr.config import integer

    raw = os.environ.get("HAUSRUF_RECORDING_RETENTION_DAYS", "").strip()  # declared in ivr.config.Settings
    return integer(minimum=1)(raw) if raw else DEFAULT_RETENTION_DAYS


def local_path(settings: Settings, reference: str) -> Path:
    """Where our copy of a recording lives (references are the adapter's ids; path separators are dropped)."""
    return settings.recordings_dir / f"{reference.replace('/', '_')}.wav"


def transcribe_message(session: Session, settings: Settings, models, task_id: int,
                       telephony: Callable[[str], TelephonyAdapter], url: str | None = None) -> CallbackTask | None:
    """Fetch a task's recording through its call's adapter, transcribe it offline, attach it, delete the provider's copy."""
    from speech.transcribe import transcribe_wav

    task = session.get(CallbackTask, task_id)
    if task is None or not task.recording_ref:
        return None
    call = session.get(Call, task.call_id) if task.call_id else None
    adapter = telephony(call.provider if call else "twilio")
    reference = task.recording_ref
    path = local_path(settings, reference)
    if not path.exists():
        try:
            path = adapter.fetch_recording(reference, path, url)
        except FileNotFoundError:  # an adapter that records locally (SIP) has no other copy
            log.warning("message %s: the recording is gone; kept without transcript", reference)
            task.transcript = ""
            return task
    language = (call.flow_language if call else None) or settings.default_language
    if language in models.languages:
        task.transcript = transcribe_wav(path, models.get(language))[:4000]
    else:
        log.warning("no Vosk model for '%s': message %s kept without transcript", language, reference)
        task.transcript = ""  # looked at; staff listen to the recording instead
    adapter.delete_recording(reference)
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
