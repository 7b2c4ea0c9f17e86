"""SIP settings checked at start, and the caller's number taken from an INVITE: pure functions, exact messages."""

from __future__ import annotations

import pytest

from ivr.numbers import flow_for
from ivr.telephony.sip.identity import call_sid, called_from_invite, caller_from_invite
from ivr.config import read_settings
from ivr.telephony.sip.settings import SipSettings, sip_start_problems


def resolve(host, port):
    if host == "sipgate.de":
        return [(2, 2, 17, "", ("217.10.79.9", 0))]
    raise OSError(-2, "Name or service not known")


def sip_settings(environ: dict[str, str]):
    """SipSettings as the registry reads them, and the value problems it found."""
    return read_settings(SipSettings, environ)


def test_defaults_and_trust_come_from_the_allow_list_and_the_registrar():
    sip, problems = sip_settings({"HAUSRUF_SIP_ALLOW": "192.168.178.0/24, 10.0.0.5",
                                  "HAUSRUF_SIP_REGISTRAR": "sipgate.de", "HAUSRUF_SIP_USER": "2345678e0",
                                  "HAUSRUF_SIP_PASSWORD": "pw"})
    assert problems == []
    sip, problems = sip_start_problems(sip, resolve=resolve)
    assert problems == []
    assert (sip.listen_host, sip.listen_port, sip.rtp_port_start, sip.rtp_port_count) == ("0.0.0.0", 5060, 10000, 1000)
    assert sip.called_number == "to"
    assert sip.registers and sip.dial_domain == "sipgate.de"
    assert sip.trusts("192.168.178.1") and sip.trusts("10.0.0.5") and sip.trusts("217.10.79.9")
    assert not sip.trusts("10.0.0.6") and not sip.trusts("203.0.113.9") and not sip.trusts("junk")


def test_bad_values_are_reported_by_the_registry_with_what_is_allowed():
    _, problems = sip_settings({"HAUSRUF_SIP_LISTEN": "everywhere:99999", "HAUSRUF_SIP_RTP_PORTS": "20000",
                                "HAUSRUF_SIP_PUBLIC_ADDRESS": "my.host", "HAUSRUF_SIP_REGISTRAR": ":5060",
                                "HAUSRUF_SIP_CALLED_NUMBER": "from"})
    assert [str(p) for p in sorted(problems)] == [
        "HAUSRUF_SIP_CALLED_NUMBER='from': not allowed; allowed: to, request-uri",
        "HAUSRUF_SIP_LISTEN='everywhere:99999': port '99999' is not a number from 1 to 65535",
        "HAUSRUF_SIP_PUBLIC_ADDRESS='my.host': expected the public IP address, e.g. 203.0.113.7",
        "HAUSRUF_SIP_REGISTRAR=':5060': no host; expected HOST or HOST:PORT, e.g. sipgate.de or 192.168.178.1:5060",
        "HAUSRUF_SIP_RTP_PORTS='20000': expected FIRST-LAST between 1024 and 65535, e.g. 10000-10999",
    ]


def test_what_only_the_line_needs_is_checked_when_it_starts():
    sip, _ = sip_settings({"HAUSRUF_SIP_USER": "me", "HAUSRUF_SIP_ALLOW": "fritz.invalid"})
    _, problems = sip_start_problems(sip, resolve=resolve)
    assert [str(p) for p in problems] == [
        "HAUSRUF_SIP_ALLOW='fritz.invalid': 'fritz.invalid' is neither an address, a network like 192.168.178.0/24, "
        "nor a host name that resolves ([Errno -2] Name or service not known)",
        "HAUSRUF_SIP_PASSWORD='': registering needs HAUSRUF_SIP_REGISTRAR, HAUSRUF_SIP_USER and HAUSRUF_SIP_PASSWORD "
        "together; missing: HAUSRUF_SIP_PASSWORD, HAUSRUF_SIP_REGISTRAR",
    ]


def test_hausruf_sip_refuses_to_start_when_nobody_could_call(monkeypatch):
    from click.testing import CliRunner

    from ivr.cli import main

    for name in ("HAUSRUF_SIP_ALLOW", "HAUSRUF_SIP_REGISTRAR", "HAUSRUF_SIP_USER", "HAUSRUF_SIP_PASSWORD",
                 "HAUSRUF_SIP_OUTBOUND_PROXY"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["sip"])
    assert result.exit_code == 2
    assert "HAUSRUF_SIP_ALLOW='': nobody could call" in result.output


INVITE = ("INVITE sip:hotline@192.0.2.1 SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 192.168.178.1:5060;branch=z9hG4bK1\r\n"
          "{from}\r\n"
          "To: <sip:hotline@192.0.2.1>\r\n"
          "{pai}"
          "Call-ID: abc@192.168.178.1\r\n"
          "CSeq: 1 INVITE\r\n"
          "Content-Length: 0\r\n\r\n")


@pytest.mark.parametrize("from_header, pai, trusted, expected", [
    ('From: "Erika" <sip:+493023125301@fritz.box>;tag=1', "", True, "+493023125301"),
    ("From: <sip:03023125301@fritz.box;user=phone>;tag=1", "", True, "+493023125301"),  # national, as a PBX sends
    ("f: <sip:anonymous@anonymous.invalid>;tag=1", "", True, None),  # withheld
    ("From: <sip:anonymous@sipgate.de>;tag=1", "P-Asserted-Identity: <tel:+493023125301>\r\n", True, "+493023125301"),
    # Untrusted peers cannot assert an identity: the From header counts.
    ("From: <sip:+4927150100000@x>;tag=1", "P-Asserted-Identity: <sip:+493023125301@x>\r\n", False,
     "+4927150100000"),
])
def test_the_caller_is_the_asserted_identity_of_a_trusted_peer_else_from(from_header, pai, trusted, expected):
    message = INVITE.format(**{"from": from_header, "pai": pai})
    assert caller_from_invite(message, trusted=trusted) == expected


def test_call_ids_fit_the_column():
    assert call_sid("abc@host") == "sip-abc@host"
    long = call_sid("x" * 300)
    assert long.startswith("sip-") and len(long) == 44


# A trunk with one registration for two numbers: the request URI is the registered Contact, To the number dialled.
TRUNK_INVITE = ("INVITE {ruri} SIP/2.0\r\n"
                "Via: SIP/2.0/UDP 217.10.79.9:5060;branch=z9hG4bK2\r\n"
                "From: <sip:+493023125301@sipgate.de>;tag=2\r\n"
                "{to}\r\n"
                "Call-ID: def@217.10.79.9\r\n"
                "CSeq: 1 INVITE\r\n"
                "Content-Length: 0\r\n\r\n")
NUMBERS = {"+4927150000001": "hotline", "+4927150000002": "wohnen"}


@pytest.mark.parametrize("ruri, to, where, called, flow", [
    ("sip:2345678e0@192.0.2.1:5060", "To: <sip:+4927150000002@sipgate.de>", "to", "+4927150000002", "wohnen"),
    ("sip:2345678e0@192.0.2.1:5060", "t: <sip:027150000002@sipgate.de;user=phone>", "to", "027150000002", "wohnen"),
    ("sip:2345678e0@192.0.2.1:5060", "To: <sip:+4927150000002@sipgate.de>", "request-uri", "2345678e0", "hotline"),
    ("sip:+4927150000002@192.0.2.1", "To: <sip:hotline@192.0.2.1>", "request-uri", "+4927150000002", "wohnen"),
    ("sip:+4927150000002@192.0.2.1", "To: <sip:hotline@192.0.2.1>", "to", "hotline", "hotline"),
    ("tel:+4927150000001", "To: <tel:+4927150000001>", "request-uri", "+4927150000001", "hotline"),
    ("sip:192.0.2.1", "To: <sip:192.0.2.1>", "to", None, "hotline"),  # no user part: the default flow
])
def test_the_called_number_is_read_where_the_trunk_puts_it(ruri, to, where, called, flow):
    message = TRUNK_INVITE.format(ruri=ruri, to=to)
    assert called_from_invite(message, where) == called
    assert flow_for(NUMBERS, "hotline", called) == flow
