"""The SIP line's side of the telephony port for the worker: its recordings live on this server only."""

from __future__ import annotations

from pathlib import Path

from ivr.config import Settings

PROVIDER = "sip"  # stored with each SIP call (ivr.db.models.Call.provider); names this adapter to the worker


class SipRecordings:
    """Recordings of `hausruf sip`: written straight into the recordings folder, no provider copy to fetch or delete."""

    provider = PROVIDER

    def __init__(self, settings: Settings):
        self.settings = settings

    def fetch_recording(self, reference: str, target: Path, location: str | None = None) -> Path:
        """The line wrote the file itself; when it is not at target it is gone (FileNotFoundError)."""
        if not target.is_file():
            raise FileNotFoundError(f"SIP recording {reference} is not in {target.parent}")
        return target

    def delete_recording(self, reference: str) -> bool:
        """Nothing to delete elsewhere: the local copy follows HAUSRUF_RECORDING_RETENTION_DAYS."""
        return False
