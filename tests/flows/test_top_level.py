"""The flow file as a whole: version, name, language, start, defaults, globals, nodes, YAML syntax."""

from __future__ import annotations

import pytest

from tests.flows.flowtext import BASE_NODES, HEAD, problems_of

TOP_KEYS = "defaults, globals, language, name, nodes, start, version"
GLOBAL_KEYS = "goto, key, keywords, label, say, synonyms"
EMERGENCY_KEYS = "advice, goto, key, keywords, label, say, synonyms"


def edited(old: str, new: str) -> str:
    """The valid base flow with one line (or part of one) replaced."""
    text = HEAD + BASE_NODES + "  extra: {kind: hangup}\n"
    assert old in text
    return text.replace(old, new)


CASES = {
    "version missing": (edited("version: 1\n", ""), ["t.yaml:1: missing required key 'version' (format version of the file)"]),
    "version 2": (edited("version: 1", "version: 2"), ["t.yaml:1: version: unsupported format version 2; expected 1"]),
    "version as text": (edited("version: 1", 'version: "1"'), ["t.yaml:1: version: unsupported format version '1'; expected 1"]),
    "name is not a slug": (
        edited("name: t", "name: Mein Ablauf"),
        ["t.yaml:2: name: 'Mein Ablauf' is not a valid flow name; use lowercase letters, digits, '-' and '_'"],
    ),
    "language is not a code": (
        edited("language: de", "language: Deutsch"),
        ["t.yaml:3: language: 'Deutsch' is not a valid language code; use a language code like 'de' or 'en'"],
    ),
    "start is dangling": (edited("start: menu", "start: men"), ["t.yaml:4: start: unknown node 'men'; did you mean 'menu'?"]),
    "unknown top-level key": (
        edited("start: menu\n", "start: menu\nstrat: menu\n"),
        [f"t.yaml:5: unknown key 'strat'; expected one of: {TOP_KEYS}; did you mean 'start'?"],
    ),
    "globals missing": (
        edited(HEAD[HEAD.index("globals:"):], ""),
        ["t.yaml:1: missing required key 'globals' (the person and emergency options, offered in every menu)"],
    ),
    "emergency missing": (
        edited('  emergency: {key: "9", keywords: [notfall], say: "Notfall: die 9.", advice: "Legen Sie auf und wählen Sie 112.", goto: bye}\n', ""),
        ["t.yaml:5: globals: missing required key 'emergency' (the emergency path, offered in every menu)"],
    ),
    "emergency without advice": (
        edited('advice: "Legen Sie auf und wählen Sie 112.", ', ""),
        [
            "t.yaml:7: globals.emergency: missing required key 'advice' (spoken first whenever the emergency path "
            "starts, before its `goto` node does anything: what to do in danger (hang up and dial 112: a call the "
            "hotline forwards carries the line's location, not the caller's))"
        ],
    ),
    "emergency not announced": (
        edited('say: "Notfall: die 9.", ', ""),
        ["t.yaml:7: globals.emergency: missing required key 'say' (how every menu announces it, e.g. \"Im Notfall: die 9.\")"],
    ),
    "unknown global": (
        edited("  person:", "  nachbar:"),
        [
            "t.yaml:5: globals: missing required key 'person' (the way to a person, offered in every menu)",
            "t.yaml:6: globals: unknown key 'nachbar'; expected one of: emergency, person",
        ],
    ),
    "global with unknown key": (
        edited("goto: bye}\n  emergency", "goto: bye, servce: meals}\n  emergency"),
        [f"t.yaml:6: globals.person: unknown key 'servce'; expected one of: {GLOBAL_KEYS}"],
    ),
    "globals share a key": (
        edited('key: "9"', 'key: "0"'),
        ["t.yaml:7: globals.emergency.key: key '0' is also the key of global 'person'"],
    ),
    "globals share a keyword": (
        edited("[notfall]", "[notfall, Mensch]"),
        ["t.yaml:7: globals.emergency: keyword 'Mensch' is also used by global 'person'"],
    ),
    "defaults with a wrong value and an unknown key": (
        edited("globals:", "defaults: {timeout: 0, retry: 3}\nglobals:"),
        [
            "t.yaml:5: defaults.timeout: expected an integer from 1 to 60, got 0",
            "t.yaml:5: defaults: unknown key 'retry'; expected one of: connect_timeout, retries, timeout; "
            "did you mean 'retries'?",
        ],
    ),
    "nodes empty": (
        HEAD + "nodes: {}\n",
        [
            "t.yaml:4: start: unknown node 'menu'",
            "t.yaml:6: globals.person.goto: unknown node 'bye'",
            "t.yaml:7: globals.emergency.goto: unknown node 'bye'",
            "t.yaml:8: nodes: expected a non-empty mapping of node id to node, got a mapping",
        ],
    ),
    "bad node id": (
        edited("  bye: {kind: hangup}", "  bye: {kind: hangup}\n  auf wiedersehen: {kind: hangup}"),
        [
            "t.yaml:17: node 'auf wiedersehen': 'auf wiedersehen' is not a valid node id; "
            "use letters, digits, '-' and '_'",
            "t.yaml:17: warning: node 'auf wiedersehen': unreachable: no path leads here from 'start' or from the globals",
        ],
    ),
    "empty file": ("", ["t.yaml:1: the file is empty; a flow starts with 'version: 1'"]),
    "not a mapping": ("- version: 1\n", ["t.yaml:1: expected a mapping (flow), got a list"]),
    "YAML syntax error": (
        edited("  extra: {kind: hangup}", "  extra: {kind: hangup"),
        ["t.yaml:18: YAML syntax error: expected ',' or '}', but got '<stream end>' (while parsing a flow mapping that starts on line 17)"],
    ),
    "YAML bad indentation": (
        edited("    kind: menu\n", "    kind: menu\n   prompt2: x\n"),
        ["t.yaml:11: YAML syntax error: expected <block end>, but found '<block mapping start>' (while parsing a block mapping that starts on line 9)"],
    ),
    "duplicate YAML key": (
        edited("  bye: {kind: hangup}\n", "  bye: {kind: hangup}\n  menu: {kind: hangup}\n"),
        ["t.yaml:17: YAML syntax error: duplicate key 'menu'; a key may appear once in a mapping"],
    ),
}


@pytest.mark.parametrize("text, expected", CASES.values(), ids=CASES.keys())
def test_top_level_problem_messages(text, expected):
    assert problems_of(text) == expected
