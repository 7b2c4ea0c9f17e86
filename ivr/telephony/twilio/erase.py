"""Erasure at Twilio: a person's call records, messages and recordings deleted by their ids (issue 15)."""

from __future__ import annotations

from ivr.telephony.twilio.client import TwilioRestClient


def delete_at_twilio(settings, sids: list[str]) -> str:
    """Delete call records, messages and recordings at Twilio; says how many, and what failed."""
    if not sids:
        return "provider: nothing to delete"
    try:
        client = TwilioRestClient(settings).client
    except ValueError:
        return f"provider: NOT deleted ({len(sids)} records), TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN not set"
    deleted, failed = 0, []
    for sid in dict.fromkeys(sids):
        resource = {"CA": client.calls, "SM": client.messages, "MM": client.messages, "RE": client.recordings}.get(sid[:2])
        if resource is None:
            continue
        try:
            resource(sid).delete()
            deleted += 1
        except Exception as exc:  # noqa: BLE001 - one record Twilio refuses must not stop the others
            if getattr(exc, "status", None) == 404:
                deleted += 1  # gone already
            else:
                failed.append(f"{sid} ({getattr(exc, 'status', type(exc).__name__)})")
    line = f"provider: deleted {deleted} records (calls, messages, recordings)"
    return line + (f"; could not delete: {', '.join(failed)}" if failed else "")
