"""Messages to the neighbours ("Nachricht an die Nachbarn"): a call's drafts, transcribed, posted or forgotten.

A house_message node (ivr.engine.runner) records the caller; its step writes a draft row (perform(),
in the step's own transaction). The worker fetches the recording through the call's telephony
adapter and transcribes it offline (transcribe_drafts: the full vocabulary runs at about half real
time, never in a webhook); meanwhile the call polls (draft_event()) until the row is ready and the
transcript is read back. Pressing 1 marks the row confirmed in the step's transaction; the worker
posts it to the house room as the hotline (post_confirmed, idempotent by the row's key, so a crash
between posting and recording posts it once). A draft that is not confirmed (2, 3, a global, a hang-up,
a call that ended) is deleted with its recording and transcript (forget_unconfirmed): it appears nowhere.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ivr.config import Settings
from ivr.db.engine import read_only
from ivr.db.models import Call, House, HouseMessage, Tenant
from ivr.directory.housechat import record_post
from ivr.engine.actions import DiscardHouseMessage, DraftHouseMessage, SendHouseMessage
from ivr.engine.context import CallContext
from ivr.engine.events import MessageTranscribed
from ivr.telephony.ports import ChannelError, HouseRoomPoster, TelephonyAdapter

log = logging.getLogger("hausruf.housemessages")

WAKE_FLAG = "hausruf.house_messages"  # session.info: a commit wrote a draft, a confirmation or a discard
READ_BACKS_GONE = "hausruf.read_backs_gone"  # session.info: (words, language) of read-backs to delete after commit
UNCONFIRMED = ("recorded", "transcribing", "ready", "failed", "discarded")
# A draft nobody can confirm any more: its call ended, or it is older than any call waits for it.
DRAFT_LIFETIME = timedelta(hours=1)
# A transcription claimed by a worker that died is free again after this (the call has long given up on it).
CLAIM_SECONDS = 600
MAX_POST_ATTEMPTS = 20  # about 20 minutes of sweeps; then staff see the error in the row


def perform(session: Session, call: Call, action, context: CallContext, now: datetime) -> HouseMessage | None:
    """Write one house-message effect of a step in the step's transaction (ivr.calls.handler); no commit."""
    if not action.recording:
        return None
    row = session.scalar(select(HouseMessage).where(HouseMessage.call_id == call.id,
                                                    HouseMessage.recording_ref == action.recording[:500]))
    if isinstance(action, DraftHouseMessage):
        if row is None:
            row = HouseMessage(call_id=call.id, recording_ref=action.recording[:500], language=action.language[:8],
                               status="recorded", created_at=now, tenant_id=call.tenant_id,
                               house_id=context.caller.house_id, event_ids="", attempts=0, error="")
            session.add(row)
    elif row is None:
        return None
    elif isinstance(action, SendHouseMessage):
        if row.status == "ready":
            row.status, row.confirmed_at = "confirmed", now
    elif isinstance(action, DiscardHouseMessage) and row.status in UNCONFIRMED:
        # The words go at once, their read-back's audio once the step is committed (ivr.tasks.web: the
        # file is found by the words alone); the worker deletes the recording (perhaps still at the provider).
        if row.transcript:
            session.info.setdefault(READ_BACKS_GONE, []).append((row.transcript, row.language))
        row.status, row.transcript = "discarded", None
    session.info[WAKE_FLAG] = True
    return row


def draft_event(session: Session, provider: str, call_id: str) -> MessageTranscribed:
    """How far the newest draft of a call is, as the engine's poll event (a webhook's quick read)."""
    row = session.execute(select(HouseMessage.recording_ref, HouseMessage.status, HouseMessage.transcript)
                          .join(Call, Call.id == HouseMessage.call_id)
                          .where(Call.provider == provider, Call.provider_call_id == call_id)
                          .order_by(HouseMessage.id.desc()).limit(1)).first()
    if row is None:
        return MessageTranscribed(None, None)
    recording, status, transcript = row
    if status in ("recorded", "transcribing"):
        return MessageTranscribed(recording, None)
    return MessageTranscribed(recording, (transcript or "") if status in ("ready", "confirmed") else "")


# -- the worker's side ---------------------------------------------------------------------------------

def transcribe_drafts(sessions, settings: Settings, models, telephony: Callable[[str], TelephonyAdapter],
                      now: datetime, urls: dict[str, str] | None = None, render=None) -> int:
    """Transcribe every recorded draft of a call still going: fetch it, decode it offline, ready it; how many.

    models() gives the Vosk models (loaded on first need). No transaction is open while a recording is
    fetched or decoded (a SQLite writer would block calls).
    render(text, language), when given, makes the read-back's audio now (the prompt cache), so the call
    plays our own voice and never hands the caller's words to a provider's text-to-speech.
    """
    from ivr.calls.recordings import local_path
    from speech.transcribe import transcribe_wav

    done = 0
    with sessions() as session:
        read_only(session)
        pending = session.execute(select(HouseMessage.id, HouseMessage.recording_ref, HouseMessage.language,
                                         Call.provider).join(Call, Call.id == HouseMessage.call_id)
                                  .where(HouseMessage.status == "recorded", Call.status == "active")).all()
        session.rollback()
    for row_id, recording, language, provider in pending:
        with sessions() as session:  # claim it: two worker threads must not decode one message twice
            claimed = session.execute(update(HouseMessage).where(HouseMessage.id == row_id,
                                                                 HouseMessage.status == "recorded")
                                      .values(status="transcribing", claimed_at=now)).rowcount
            session.commit()
        if not claimed:
            continue
        text, error = "", ""
        try:
            adapter = telephony(provider)
            path = local_path(settings, recording)
            if not path.exists():
                path = adapter.fetch_recording(recording, path, (urls or {}).get(recording))
            registry = models()
            if language in registry.languages:
                text = " ".join(transcribe_wav(path, registry.get(language)).split())[:1000]
            else:
                error = f"no speech model for '{language}'"
            if text and render is not None:
                render(text, language)
        except Exception as exc:  # noqa: BLE001 - the caller hears "not understood" and may speak again
            log.exception("house message %s could not be transcribed", row_id)
            text, error = "", str(exc)[:500]
        try:
            telephony(provider).delete_recording(recording)  # our copy is the only one now
        except Exception:  # noqa: BLE001 - kept at the provider until its own retention; the log says so
            log.exception("the recording of house message %s could not be deleted at the provider", row_id)
        with sessions() as session:
            # Only if it is still this worker's: a draft discarded meanwhile stays discarded.
            session.execute(update(HouseMessage).where(HouseMessage.id == row_id,
                                                       HouseMessage.status == "transcribing")
                            .values(status="ready" if text else "failed", transcript=text, error=error))
            session.commit()
        done += 1
    return done


def post_confirmed(sessions, settings: Settings, poster: HouseRoomPoster, now: datetime, prompt_path=None) -> int:
    """Post every confirmed message to its house room (text, then the recording); how many were posted.

    prompt_path(text, language): the read-back's audio, no longer needed once it is posted (deleted).
    The room's transaction ids make it idempotent: posting a row again after a crash between posting
    and recording gives back the same events, never a second message. No transaction is open while
    the homeserver answers.
    """
    from ivr.calls.recordings import local_path

    with sessions() as session:
        read_only(session)
        pending = session.execute(
            select(HouseMessage.id, HouseMessage.call_id, HouseMessage.recording_ref, HouseMessage.transcript,
                   HouseMessage.language, House.chat_room, Tenant.salutation, Tenant.first_name, Tenant.last_name)
            .outerjoin(House, House.id == HouseMessage.house_id).outerjoin(Tenant, Tenant.id == HouseMessage.tenant_id)
            .where(HouseMessage.status == "confirmed", HouseMessage.attempts < MAX_POST_ATTEMPTS)
            .order_by(HouseMessage.id)).all()
        session.rollback()
    posted = 0
    for row_id, call_id, recording, transcript, language, room, salutation, first, last in pending:
        salutation = salutation or f"{first or ''} {last or ''}".strip()
        if not room or not salutation:
            _failed(sessions, row_id, "the house has no chat room (any more), or the tenant is gone")
            continue
        path = local_path(settings, recording)
        audio = path.read_bytes() if path.exists() else None
        try:
            room_id, events = poster.post_house_message(room, salutation, transcript or "", audio,
                                                        f"house-message:{call_id}:{row_id}")
        except ChannelError as exc:
            log.warning("house message %s not posted yet: %s", row_id, exc)
            _failed(sessions, row_id, str(exc))
            continue
        with sessions() as session:
            record_posted(session, row_id, room_id, events, poster.sender, salutation, now)
            session.commit()
        if transcript and prompt_path is not None:
            prompt_path(transcript, language).unlink(missing_ok=True)
        posted += 1
    return posted


def record_posted(session: Session, row_id: int, room_id: str, events: list[str], sender: str, salutation: str,
                  now: datetime) -> None:
    """The post is in the room: note its events, and keep it for her "Neues aus dem Haus" (answers to it first)."""
    from ivr.engine.housenews import BY_PHONE

    row = session.get(HouseMessage, row_id)
    row.status, row.posted_at, row.event_ids, row.error = "posted", now, " ".join(events)[:600], ""
    if row.house_id and row.tenant_id and events:
        record_post(session, row.house_id, room_id, events[0], sender, f"{salutation}{BY_PHONE}{row.transcript}",
                    row.tenant_id, now)


def _failed(sessions, row_id: int, error: str) -> None:
    with sessions() as session:
        row = session.get(HouseMessage, row_id)
        row.attempts, row.error = row.attempts + 1, error[:500]
        session.commit()


def forget_unconfirmed(sessions, settings: Settings, telephony: Callable[[str], TelephonyAdapter],
                       now: datetime, prompt_path=None) -> int:
    """Delete every draft nobody can confirm any more, with its recording (ours and the provider's); how many.

    Discarded ones, and those whose call ended or that are older than DRAFT_LIFETIME. A draft a
    worker thread is transcribing right now is left until it is done (or its claim is stale).
    prompt_path(text, language): where the read-back's audio was rendered, deleted with it.
    """
    from ivr.calls.recordings import local_path

    with sessions() as session:
        read_only(session)
        rows = session.execute(
            select(HouseMessage, Call.status, Call.provider).join(Call, Call.id == HouseMessage.call_id)
            .where(HouseMessage.status.in_(UNCONFIRMED))).all()
        gone = []
        for row, call_status, provider in rows:
            dead = row.status == "discarded" or call_status != "active" or row.created_at < now - DRAFT_LIFETIME
            busy = (row.status == "transcribing" and row.claimed_at is not None
                    and row.claimed_at > now - timedelta(seconds=CLAIM_SECONDS))
            if dead and not busy:
                gone.append((row.id, row.recording_ref, provider, row.status, row.transcript, row.language))
        session.rollback()
    for row_id, recording, provider, status, transcript, language in gone:
        local_path(settings, recording).unlink(missing_ok=True)
        if transcript and prompt_path is not None:
            prompt_path(transcript, language).unlink(missing_ok=True)
        if status == "recorded":  # never fetched: the provider still has it
            try:
                telephony(provider).delete_recording(recording)
            except Exception:  # noqa: BLE001 - retried at the next sweep: the row stays until it is gone
                log.exception("the recording of unconfirmed house message %s is still at the provider", row_id)
                continue
        with sessions() as session:
            row = session.get(HouseMessage, row_id)
            if row is not None and row.status in UNCONFIRMED:
                session.delete(row)
            session.commit()
    return len(gone)

