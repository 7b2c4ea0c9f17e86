"""Calls over SIP end to end: baresip callers and partners against `hausruf sip`, audio checked as received."""

from __future__ import annotations

import time

from tests.sip.conftest import (CONNECT_TIMEOUT, ERIKA, GROCERIES, HOTLINE_NUMBER, HOUSING_NUMBER, call_established,
                                sip_metrics, tone_wav, wait_for)
from tests.sip.peers import dominant_frequency, loud_seconds


def test_partner_rings_hears_the_whisper_and_is_bridged_both_ways(line, database, partner, peers, sip_tmp):
    caller = peers(ERIKA, codec="PCMU", source=tone_wav(sip_tmp, 440))
    call_established(caller, line)
    caller.press("1")
    wait_for(partner.ringing, 20, "the grocery partner's phone to ring")
    assert f"sip:{GROCERIES}@" in partner.log()
    partner.accept()
    wait_for(lambda: "connected" in line.log().split("dialling")[-1], 20, "the whisper, then the bridge")
    time.sleep(1.5)
    partner_heard, caller_heard = partner.received(), caller.received()
    # The whisper (speech) reached the partner before the bridge; then each hears the other's tone.
    assert loud_seconds(partner_heard) >= 3.0
    assert abs(dominant_frequency(partner_heard[-4000:]) - 440) < 15
    assert abs(dominant_frequency(caller_heard[-4000:]) - 1000) < 15
    caller.hangup()
    wait_for(lambda: "connected" in (database.call_of(ERIKA)[-1][2] or ""), 10, "the outcome 'connected'")
    wait_for(partner.closed, 10, "the partner's leg to end with the caller's")


def test_partner_does_not_answer_and_the_caller_is_offered_a_callback(line, database, partner, peers):
    caller = peers(ERIKA, codec="PCMA")
    before = len(database.tasks_for())
    call_established(caller, line)
    caller.press("1")
    wait_for(partner.ringing, 20, "the grocery partner's phone to ring")
    # Nobody answers: after the connect timeout the flow's fallback offers a callback; 1 books it.
    sid = database.call_of(ERIKA)[-1][0]
    wait_for(lambda: any(k == "dial" and d == "no-answer" for k, d in database.events(sid)),
             CONNECT_TIMEOUT + 10, "the connect to end without an answer")
    time.sleep(2.0)
    caller.press("1")
    tasks = wait_for(lambda: database.tasks_for() if len(database.tasks_for()) > before else None, 15,
                     "a callback task for staff")
    assert tasks[-1][0] == "staff"


def test_caller_hangs_up_mid_menu_and_the_record_is_closed(line, database, peers):
    caller = peers(ERIKA, codec="PCMA")
    call_established(caller, line)
    time.sleep(0.5)
    caller.hangup()
    wait_for(lambda: database.call_of(ERIKA)[-1][1] == "ended", 10, "the call record to close")
    assert "hung up at" in database.call_of(ERIKA)[-1][2]


def test_invite_from_an_address_not_allowed_gets_403(line, peers):
    forbidden = ("hausruf_sip_incoming_calls_total", "forbidden")
    before = sip_metrics(line.env)[forbidden]
    intruder = peers(ERIKA, codec="PCMA", host="127.0.0.2")
    intruder.dial(line.uri)
    wait_for(lambda: "403" in intruder.log(), 10, "the 403 at the intruder")
    assert not intruder.established()
    assert "403 for INVITE from 127.0.0.2" in line.log()
    wait_for(lambda: sip_metrics(line.env)[forbidden] == before + 1, 5, "the 403 counted in /metrics")


def test_the_called_number_picks_the_flow(line, database, peers):
    """HAUSRUF_NUMBERS on the SIP line: the number in the To header picks the flow, as Twilio's `To` does."""
    for called, flow in ((HOUSING_NUMBER, "wohnen"), (HOTLINE_NUMBER, "hotline")):
        caller = peers(ERIKA, codec="PCMA")
        caller.dial(line.uri.replace("sip:hotline@", f"sip:{called}@"))
        wait_for(caller.established, 10, f"the line to answer a call to {called}")
        wait_for(lambda: loud_seconds(caller.received()) >= 1.0, 20, f"the greeting of {flow}")
        assert database.flow_of(ERIKA) == flow
        caller.hangup()
