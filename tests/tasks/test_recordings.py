"""Spoken messages: a recording attached to the caller's task is fetched from the Twilio stand-in over
real HTTP, transcribed offline with the real Korean model, deleted at Twilio, and purged locally later."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.apps import migrated_app
from ivr.calls.recordings import local_path, purge_recordings
from ivr.db import engine_of, get_session
from ivr.db.models import CallbackTask
from ivr.app import worker_jobs
from tests.speech.conftest import KOREAN_MODEL
from tests.support.call_simulator import CallSimulator
from tests.tasks.conftest import task_app_config
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, PUBLIC_URL, load_demo_directory
from ivr.wiring import hausruf

FLOWS = Path(__file__).resolve().parents[1] / "speech" / "fixtures" / "flows"
RECORDING = "RE" + "4" * 32


@pytest.fixture
def korean_app(database_url, tmp_path, standin, clock):
    config = task_app_config(database_url, tmp_path, standin)
    config.update(flows_dir=FLOWS, default_language="ko", vosk_models={"ko": str(KOREAN_MODEL)}, speech_enabled=False)
    app = migrated_app(config)
    hausruf(app).clock = lambda: clock.now
    load_demo_directory(app)
    yield app
    engine_of(app).dispose()


def test_a_recorded_message_is_transcribed_offline_and_removed_from_twilio(korean_app, standin, tmp_path):
    wav = tmp_path / "message.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(wav), "장보기 안내"], check=True)
    standin.recordings[RECORDING] = wav.read_bytes()
    call = CallSimulator(korean_app.test_client(), PUBLIC_URL, AUTH_TOKEN).call(ERIKA)
    call.press("5")
    call.record(recording_sid=RECORDING, seconds=3)
    settings = korean_app.config["HAUSRUF"]
    assert worker_jobs(settings).transcribe_messages() == 1
    with korean_app.app_context():
        task = get_session().scalar(select(CallbackTask).where(CallbackTask.recording_ref == RECORDING))
        assert task.audience == "volunteers" and task.topic == "안내"
        assert task.transcript  # full-vocabulary text of the message (accuracy: docs/performance.md)
    assert standin.deleted_recordings == [RECORDING]  # the voice stays on our server only
    assert local_path(settings, RECORDING).stat().st_size > 1000
    assert worker_jobs(settings).transcribe_messages() == 0  # done once
    assert purge_recordings(settings, days=30) == 0
    # Retention counts from when the audio reached our disk (its file time), on the real clock.
    assert purge_recordings(settings, now=datetime.now(timezone.utc) + timedelta(days=31), days=30) == 1
    assert not local_path(settings, RECORDING).exists()


def test_deleting_a_recording_twilio_no_longer_has_is_not_an_error(standin, tmp_path):
    from ivr.config import Settings
    from ivr.telephony.twilio.client import TwilioError, TwilioRestClient

    settings = Settings.from_env(**task_app_config("sqlite://", tmp_path, standin))
    standin.recordings[RECORDING] = b"RIFF"
    client = TwilioRestClient(settings)
    assert client.delete_recording(RECORDING) is True
    assert client.delete_recording(RECORDING) is False  # 404: already gone
    assert standin.deleted_recordings == [RECORDING]
    wrong = Settings.from_env(**{**task_app_config("sqlite://", tmp_path, standin), "twilio_auth_token": "wrong"})
    with pytest.raises(TwilioError) as refused:
        TwilioRestClient(wrong).delete_recording(RECORDING)
    assert refused.value.status == 401 and refused.value.permanent
