"""HAUSRUF_MATRIX_*: parsed and checked at start like every setting."""

from __future__ import annotations

from ivr.config import load_settings, startup_problems
from ivr.telephony.matrix.settings import MatrixSettings


def problems_for(environ: dict[str, str]) -> list[str]:
    settings, _ = load_settings(environ)
    return [f"{p.env}: {p.message}" for p in startup_problems(settings, environ) if p.env.startswith("HAUSRUF_MATRIX")]


def test_matrix_is_off_without_a_homeserver_and_that_is_no_problem():
    settings, _ = load_settings({})
    assert settings.group(MatrixSettings).enabled is False
    assert problems_for({}) == []


def test_a_complete_account_with_a_token_is_enabled():
    environ = {"HAUSRUF_MATRIX_HOMESERVER": "https://matrix.talblick.example/",
               "HAUSRUF_MATRIX_USER": "@hausruf:talblick.example", "HAUSRUF_MATRIX_ACCESS_TOKEN": "syt_abc",
               "HAUSRUF_MATRIX_HELPERS_ROOM": "#it-helfer:talblick.example"}
    settings, _ = load_settings(environ)
    matrix = settings.group(MatrixSettings)
    assert matrix.enabled and matrix.homeserver == "https://matrix.talblick.example"
    assert matrix.helpers_room == "#it-helfer:talblick.example"
    assert problems_for(environ) == []


def test_bad_and_missing_values_are_named_with_what_is_allowed():
    assert problems_for({"HAUSRUF_MATRIX_HOMESERVER": "matrix.talblick.example",
                         "HAUSRUF_MATRIX_USER": "hausruf", "HAUSRUF_MATRIX_HELPERS_ROOM": "it-helfer"}) == [
        "HAUSRUF_MATRIX_HELPERS_ROOM: 'it-helfer' is not a Matrix room; write an alias like "
        "'#lindenhof:talblick.example' or a room id like '!abc123:talblick.example'",
        "HAUSRUF_MATRIX_HOMESERVER: not a URL with a host; allowed: https://host or http://host, "
        "e.g. https://hotline.example.org",
        "HAUSRUF_MATRIX_USER: 'hausruf' is not a Matrix user ID; write it like '@jonas:talblick.example' "
        "(lower case name, then ':' and the server)",
    ]
    assert problems_for({"HAUSRUF_MATRIX_HOMESERVER": "https://matrix.talblick.example"}) == [
        "HAUSRUF_MATRIX_HOMESERVER: HAUSRUF_MATRIX_USER is missing; allowed: the hotline's own account, "
        "e.g. @hausruf:talblick.example"]
    assert problems_for({"HAUSRUF_MATRIX_HOMESERVER": "https://matrix.talblick.example",
                         "HAUSRUF_MATRIX_USER": "@hausruf:talblick.example"}) == [
        "HAUSRUF_MATRIX_HOMESERVER: neither HAUSRUF_MATRIX_ACCESS_TOKEN nor HAUSRUF_MATRIX_PASSWORD is set; "
        "allowed: an access token of the hotline's account (preferred: one fixed device) or its password"]
    assert problems_for({"HAUSRUF_MATRIX_USER": "@hausruf:talblick.example",
                         "HAUSRUF_MATRIX_PASSWORD": "pw"}) == [
        "HAUSRUF_MATRIX_USER: set HAUSRUF_MATRIX_HOMESERVER too (e.g. https://matrix.talblick.example), "
        "or nothing of Matrix"]
