"""`hausruf tasks`, the Twilio client against the stand-in, the queue choice, and a real worker killed mid-send."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from huey import RedisHuey, SqliteHuey

from ivr.cli import main
from ivr.config import Settings
from ivr.tasks.queue import make_huey
from ivr.telephony.twilio.client import TwilioError, TwilioRestClient
from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN
from tests.tasks.conftest import JONAS, only_task, outbox, sms
from tests.tasks.test_acceptance import book_it_help
from tests.twilio.conftest import HOTLINE
from ivr.wiring import hausruf


def cli(app, *args):
    env = {"HAUSRUF_DATABASE_URL": app.config["HAUSRUF"].database_url, "HAUSRUF_ENV_FILE": "/nonexistent"}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_tasks_lists_open_tasks_and_shows_details(twilio, app, db):
    book_it_help(twilio)
    sms(twilio, JONAS, "ok 1")
    listing = cli(app, "tasks")
    assert listing.exit_code == 0 and listing.output.count("\n") >= 2, (listing.output, listing.exception)
    header, row = listing.output.splitlines()[:2]
    assert header.split()[:4] == ["#", "age", "state", "for"]
    assert row.split()[0] == "1" and "accepted" in row and "Lindenhof" in row and "Jonas Brandt" in row
    details = cli(app, "tasks", "show", "1").output
    assert "task #1: accepted (volunteers)" in details
    assert "open -> offered  by worker: new task; offered to volunteer" in details
    assert "offered -> accepted  by volunteer" in details and "+49 30 ***01" in details


def test_staff_cancel_tells_the_volunteer_and_done_twice_is_refused(twilio, app, db):
    book_it_help(twilio)
    sms(twilio, JONAS, "ok 1")
    assert cli(app, "tasks", "cancel", "1", "--reason", "Frau Becker hat selbst angerufen").output == \
        "task #1 is cancelled\n"
    assert outbox(db, JONAS)[-1].body == ("Hausruf #1: abgesagt durch die Genossenschaft. Bitte nicht mehr anrufen. "
                                          "Danke!")
    refused = CliRunner().invoke(main, ["tasks", "done", "1"],
                                 env={"HAUSRUF_DATABASE_URL": app.config["HAUSRUF"].database_url})
    assert refused.exit_code == 1 and "task #1 is cancelled; it cannot become done" in refused.output
    assert "there is no task #7" in CliRunner().invoke(
        main, ["tasks", "show", "7"], env={"HAUSRUF_DATABASE_URL": app.config["HAUSRUF"].database_url}).output
    assert only_task(db).transitions[-1].reason == "Frau Becker hat selbst angerufen"


def client_for(standin, token: str = AUTH_TOKEN) -> TwilioRestClient:
    return TwilioRestClient(Settings.from_env(twilio_account_sid=ACCOUNT_SID, twilio_auth_token=token,
                                              twilio_api_base=standin.base_url, phone_number=HOTLINE))


def test_the_client_updates_live_calls_and_reports_typed_errors(standin):
    client = client_for(standin)
    client.redirect_call("CA" + "1" * 32, "https://hotline.example.org/twilio/voice/speech?phrase=ja")
    assert standin.call_updates == [{"sid": "CA" + "1" * 32, "method": "POST",
                                     "url": "https://hotline.example.org/twilio/voice/speech?phrase=ja"}]
    standin.fail("CA" + "2" * 32, status=400, code=21220)  # 21220: call is not in progress
    with pytest.raises(TwilioError) as error:
        client.redirect_call("CA" + "2" * 32, "https://hotline.example.org/x")
    assert (error.value.code, error.value.permanent) == (21220, True)
    with pytest.raises(TwilioError) as error:
        client_for(standin, token="wrong").send_sms(JONAS, "x")
    assert (error.value.status, error.value.code, error.value.permanent) == (401, 20003, True)
    assert all(r.path.startswith("/2010-04-01/Accounts/") for r in standin.requests)


def test_network_errors_are_temporary_and_maybe_done():
    client = TwilioRestClient(Settings.from_env(twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                                                twilio_api_base="http://127.0.0.1:9", phone_number=HOTLINE))
    with pytest.raises(TwilioError) as error:
        client.send_sms(JONAS, "x")
    assert (error.value.code, error.value.permanent, error.value.maybe_done) == (None, False, True)


def test_the_queue_is_sqlite_by_default_and_redis_by_url(tmp_path):
    assert isinstance(make_huey(f"sqlite:///{tmp_path / 'q' / 'huey.sqlite3'}"), SqliteHuey)
    assert isinstance(make_huey("redis://127.0.0.1:6379/0"), RedisHuey)  # connects lazily
    with pytest.raises(ValueError, match="expected sqlite:///path/to/huey.sqlite3 or redis://"):
        make_huey("amqp://rabbit")


def _worker(app, standin, tmp_path, lease: str) -> subprocess.Popen:
    settings = app.config["HAUSRUF"]
    env = {**os.environ, "HAUSRUF_DATABASE_URL": settings.database_url, "HAUSRUF_QUEUE_URL": settings.queue_url,
           "HAUSRUF_DATA_DIR": str(tmp_path), "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "HAUSRUF_TWILIO_API_BASE": standin.base_url, "HAUSRUF_PHONE_NUMBER": HOTLINE,
           "HAUSRUF_SMS_LEASE_SECONDS": lease, "HAUSRUF_ENV_FILE": "/nonexistent"}
    return subprocess.Popen([sys.executable, "-c", "from ivr.cli import main; main()", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_worker_killed_between_send_and_commit_neither_loses_nor_doubles(twilio, app, db, standin, tmp_path):
    # Real time: the worker subprocess has a real clock (so at night Petra gets the offer, not Jonas).
    standin.clock = hausruf(app).clock = lambda: datetime.now(timezone.utc)
    book_it_help(twilio)
    [offer] = outbox(db)
    hold = standin.fail(offer.to_number, mode="hang", times=1)  # Twilio takes it; the answer never comes back
    first = _worker(app, standin, tmp_path, lease="1")
    try:
        assert standin.wait_for_posts(1, timeout=30), first.stderr.read1().decode() if first.poll() else ""
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        hold.release.set()
    [offer] = outbox(db)
    assert offer.status == "sending" and offer.provider_message_id is None  # the crash left it claimed
    time.sleep(1.1)  # let the dead worker's lease run out
    second = _worker(app, standin, tmp_path, lease="1")
    try:
        deadline = time.monotonic() + 30
        while outbox(db)[0].status != "sent" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(15)
    [offer] = outbox(db)
    [message] = standin.messages_to(offer.to_number)  # one message, sent by the killed worker
    assert offer.status == "sent" and offer.provider_message_id == message["sid"]
    # One POST: never sent twice. The second worker looked it up (GET) before sending; on a busy
    # machine its one-second lease can run out mid-look-up, and a second look-up is harmless.
    assert len(standin.posts()) == 1 and [r.method for r in standin.requests][:2] == ["POST", "GET"]
    assert set(r.method for r in standin.requests) == {"POST", "GET"}
