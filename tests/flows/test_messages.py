"""From bad input to the exact message: one case per kind of mistake staff make in a node."""

from __future__ import annotations

import pytest

from ivr.flows.loader import parse_flow_text
from ivr.hours import OpeningHours
from tests.flows.flowtext import EXTRA_LINE, HEAD, problems_of, with_node

KINDS = "ask, callback, condition, connect, goto, hangup, house_message, house_news, match, menu, message, say, send_details"
SERVICES = "day_care, groceries, home_care, home_emergency, meals"
AT = f"t.yaml:{EXTRA_LINE}: node 'extra'"
MENU = (
    '\n    kind: menu\n    prompt: "Bitte."\n    options:\n{options}'
    "    no_input: {{then: bye}}\n    no_match: {{then: bye}}\n{more}"
)


def menu(*options: str, more: str = "") -> str:
    """A menu node under test; its options start on line EXTRA_LINE + 4."""
    return MENU.format(options="".join(f"      - {o}\n" for o in options), more=more)


def option(key: str, word: str, goto: str = "bye", extra: str = "") -> str:
    return f'{{key: "{key}", label: {word}, keywords: [{word}], goto: {goto}{extra}}}'


OPTIONS_LINE = EXTRA_LINE + 4
CASES = {
    "unknown kind": (
        "{kind: gahter}",
        [f"{AT}: unknown kind 'gahter'; expected one of: {KINDS}"],
    ),
    "misspelt kind is matched": (
        "{kind: conect}",
        [f"{AT}: unknown kind 'conect'; expected one of: {KINDS}; did you mean 'connect'?"],
    ),
    "kind missing": (
        "{prompt: Hallo}",
        [f"{AT}: missing required key 'kind'; expected one of: {KINDS}"],
    ),
    "node is not a mapping": (
        "hallo",
        [f"{AT}: expected a node (a mapping with a 'kind'), got 'hallo'"],
    ),
    "unknown key, and the key it should have been": (
        "\n    kind: say\n    promt: Hallo\n    next: bye",
        [
            f"{AT}: missing required key 'prompt' (what the caller hears)",
            f"t.yaml:{EXTRA_LINE + 2}: node 'extra': unknown key 'promt'; "
            "expected one of: kind, next, prompt; did you mean 'prompt'?",
        ],
    ),
    "dangling next with a near match": (
        "{kind: say, prompt: Hallo, next: by}",
        [f"{AT} next: unknown node 'by'; did you mean 'bye'?"],
    ),
    "dangling goto without a near match": (
        "{kind: goto, target: nirgendwo}",
        [f"{AT} target: unknown node 'nirgendwo'"],
    ),
    "dangling fallback": (
        "\n    kind: connect\n    target: staff\n    fallback: bey",
        [f"t.yaml:{EXTRA_LINE + 3}: node 'extra' fallback: unknown node 'bey'; did you mean 'bye'?"],
    ),
    "dangling retry target": (
        menu(option("1", "eins")).replace("no_match: {then: bye}", "no_match: {then: menue}"),
        [f"t.yaml:{OPTIONS_LINE + 2}: node 'extra' no_match.then: unknown node 'menue'; did you mean 'menu'?"],
    ),
    "wrong type for an integer": (
        menu(option("1", "eins"), more="    timeout: zehn\n"),
        [f"t.yaml:{OPTIONS_LINE + 3}: node 'extra' timeout: expected an integer from 1 to 60, got 'zehn'"],
    ),
    "integer out of range": (
        "{kind: message, prompt: Bitte, for: staff, topic: Nachricht, next: bye, max_seconds: 3}",
        [f"{AT} max_seconds: expected an integer from 5 to 300, got 3"],
    ),
    "two options with one key": (
        menu(option("1", "eins"), option("1", "zwei")),
        [f"t.yaml:{OPTIONS_LINE + 1}: node 'extra' options[1].key: key '1' is also used by options[0]"],
    ),
    "option key is a global key": (
        menu(option("0", "eins")),
        [f"t.yaml:{OPTIONS_LINE}: node 'extra' options[0].key: key '0' is also used by global 'person'"],
    ),
    "option key is the repeat key": (
        menu(option("1", "eins"), more='    repeat_key: "1"\n'),
        [f"t.yaml:{OPTIONS_LINE}: node 'extra' options[0].key: key '1' is also used by the repeat key"],
    ),
    "repeat key is a global key": (
        menu(option("1", "eins"), more="    repeat_key: 9\n"),
        [f"t.yaml:{OPTIONS_LINE + 3}: node 'extra' repeat_key: repeat key '9' is also the key of global 'emergency'"],
    ),
    "keyword used by two options": (
        menu(option("1", "eins"), '{key: "2", label: Zwei, keywords: [zwei], synonyms: [Eins], goto: bye}'),
        [f"t.yaml:{OPTIONS_LINE + 1}: node 'extra' options[1]: keyword 'Eins' is also used by options[0]"],
    ),
    "keyword of a global": (
        menu(option("1", "notfall")),
        [f"t.yaml:{OPTIONS_LINE}: node 'extra' options[0]: keyword 'notfall' is also used by global 'emergency'"],
    ),
    "keyword listed twice in one option": (
        menu('{key: "1", label: Eins, keywords: [eins], synonyms: [eins], goto: bye}'),
        [f"t.yaml:{OPTIONS_LINE}: node 'extra' options[0]: keyword 'eins' is listed twice"],
    ),
    "umlaut spelled out is the same word": (
        menu(option("1", "Müll"), option("2", "muell")),
        [
            f"t.yaml:{OPTIONS_LINE + 1}: node 'extra' options[1]: keyword 'muell' is also used by options[0] "
            "as 'Müll' (case, umlauts and punctuation do not count)"
        ],
    ),
    "punctuation does not count": (
        menu(option("1", "hilfe"), '{key: "2", label: Zwei, keywords: ["hilfe!"], goto: bye}'),
        [
            f"t.yaml:{OPTIONS_LINE + 1}: node 'extra' options[1]: keyword 'hilfe!' is also used by options[0] "
            "as 'hilfe' (case, umlauts and punctuation do not count)"
        ],
    ),
    "hyphen and space are the same": (
        menu('{key: "1", label: Mail, keywords: [e-mail], goto: bye}', '{key: "2", label: Post, keywords: [post], synonyms: [e mail], goto: bye}'),
        [
            f"t.yaml:{OPTIONS_LINE + 1}: node 'extra' options[1]: keyword 'e mail' is also used by options[0] "
            "as 'e-mail' (case, umlauts and punctuation do not count)"
        ],
    ),
    "umlaut keyword of a global": (
        menu(option("1", "Notfäll")).replace("[Notfäll]", "[NOTFALL!]"),
        [
            f"t.yaml:{OPTIONS_LINE}: node 'extra' options[0]: keyword 'NOTFALL!' is also used by global 'emergency' "
            "as 'notfall' (case, umlauts and punctuation do not count)"
        ],
    ),
    "a repeat word as a keyword": (
        menu(option("1", "nochmal")),
        [
            f"t.yaml:{OPTIONS_LINE}: node 'extra' options[0]: keyword 'nochmal' is a repeat word: saying it repeats "
            "the menu (wiederholen, nochmal, noch einmal)"
        ],
    ),
    "a repeat word spelled differently": (
        menu('{key: "1", label: Eins, keywords: [eins], synonyms: ["Noch-Einmal"], goto: bye}'),
        [
            f"t.yaml:{OPTIONS_LINE}: node 'extra' options[0]: keyword 'Noch-Einmal' is a repeat word as 'noch einmal' "
            "(case, umlauts and punctuation do not count): saying it repeats the menu (wiederholen, nochmal, noch einmal)"
        ],
    ),
    "listed twice in other spellings": (
        menu('{key: "1", label: Eins, keywords: [Straße], synonyms: [strasse], goto: bye}'),
        [
            f"t.yaml:{OPTIONS_LINE}: node 'extra' options[0]: keyword 'strasse' is listed twice as 'Straße' "
            "(case, umlauts and punctuation do not count)"
        ],
    ),
    "a keyword nobody can say": (
        menu('{key: "1", label: Eins, keywords: ["?!"], goto: bye}'),
        [f"t.yaml:{OPTIONS_LINE}: node 'extra' options[0]: keyword '?!' has no letters or digits a caller could say"],
    ),
    "empty keywords": (
        menu('{key: "1", label: Eins, keywords: [], goto: bye}'),
        [f"t.yaml:{OPTIONS_LINE}: node 'extra' options[0].keywords: is empty; give at least one word the caller can say"],
    ),
    "keywords as a single word": (
        menu('{key: "1", label: Eins, keywords: eins, goto: bye}'),
        [f"t.yaml:{OPTIONS_LINE}: node 'extra' options[0].keywords: expected a list of words, got 'eins'; write [eins]"],
    ),
    "key that is not a digit": (
        menu('{key: "*1", label: Eins, keywords: [eins], goto: bye}'),
        [
            f"t.yaml:{OPTIONS_LINE}: node 'extra' options[0].key: unknown telephone key '*1'; "
            "expected one of: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9; did you mean '1'?"
        ],
    ),
    "template syntax error": (
        '{kind: say, prompt: "Hallo {{ caller.salutation }", next: bye}',
        [f"{AT}: prompt has a template syntax error: unexpected '}}'"],
    ),
    "prompt is not text": (
        "{kind: say, prompt: 42, next: bye}",
        [f"{AT} prompt: expected a prompt (a text or a non-empty list of texts), got 42"],
    ),
    "empty prompt segment": (
        '{kind: say, prompt: ["Hallo.", ""], next: bye}',
        [f"{AT} prompt[1]: expected a prompt (a text or a non-empty list of texts), got ''"],
    ),
    "bad service kind of an option": (
        menu(option("1", "eins", extra=", service: grocery")),
        [
            f"t.yaml:{OPTIONS_LINE}: node 'extra' options[0].service: unknown service kind 'grocery'; "
            f"expected one of: {SERVICES}; did you mean 'groceries'?"
        ],
    ),
    "bad service kind of a target": (
        "{kind: connect, target: {service: taxi}, fallback: bye}",
        [f"{AT} target.service: unknown service kind 'taxi'; expected one of: {SERVICES}"],
    ),
    "bad E.164 number": (
        '{kind: connect, target: {number: "030 1234567"}, fallback: bye}',
        [
            f"{AT} target.number: expected an E.164 phone number like '+4930123456' "
            "(plus, country code, no spaces), got '030 1234567'"
        ],
    ),
    "a connect to 112": (
        '{kind: connect, target: {number: "112"}, fallback: bye}',
        [
            f"{AT} target.number: '112' is an emergency number: a call the hotline forwards would carry the line's "
            "location, not the caller's; the emergency advice (globals.emergency.advice) tells callers to hang up "
            "and dial it themselves"
        ],
    ),
    "a connect to 110 with the country code": (
        '{kind: connect, target: {number: "+49 110"}, fallback: bye}',
        [
            f"{AT} target.number: '+49 110' is an emergency number: a call the hotline forwards would carry the "
            "line's location, not the caller's; the emergency advice (globals.emergency.advice) tells callers to "
            "hang up and dial it themselves"
        ],
    ),
    "a connect to 112 written as a number": (
        "{kind: connect, target: {number: 112}, fallback: bye}",
        [
            f"{AT} target.number: 112 is an emergency number: a call the hotline forwards would carry the "
            "line's location, not the caller's; the emergency advice (globals.emergency.advice) tells callers to "
            "hang up and dial it themselves"
        ],
    ),
    "unknown target": (
        "{kind: connect, target: partner, fallback: bye}",
        [f"{AT} target: expected staff, volunteers, {{service: KIND}} or {{number: '+49...'}}, got 'partner'"],
    ),
    "closed is only for service targets": (
        "{kind: connect, target: volunteers, fallback: bye, closed: bye}",
        [f"{AT}: 'closed' is only for a service target; this target is 'volunteers'"],
    ),
    "unknown audience": (
        "{kind: callback, for: tenants, topic: Hilfe, next: bye}",
        [f"{AT} for: unknown audience 'tenants'; expected one of: project, staff, volunteers"],
    ),
    "unknown test": (
        "{kind: condition, branches: [{if: {knwn: true}, goto: bye}], else: bye}",
        [
            f"{AT} branches[0].if: unknown test 'knwn'; expected one of: answer, hours, house, house_chat, known, language, "
            "region, service_available, service_open; did you mean 'known'?"
        ],
    ),
    "two tests in one branch": (
        "{kind: condition, branches: [{if: {known: true, house: h1}, goto: bye}], else: bye}",
        [f"{AT} branches[0].if: expected a mapping with one test, e.g. {{known: true}}, got a mapping"],
    ),
    "known needs true or false": (
        "{kind: condition, branches: [{if: {known: ja}, goto: bye}], else: bye}",
        [f"{AT} branches[0].if.known: expected true or false, got 'ja'"],
    ),
    "bad service kind of a test": (
        "{kind: condition, branches: [{if: {service_open: meal}, goto: bye}], else: bye}",
        [
            f"{AT} branches[0].if.service_open: unknown service kind 'meal'; "
            f"expected one of: {SERVICES}; did you mean 'meals'?"
        ],
    ),
}


@pytest.mark.parametrize("node, expected", CASES.values(), ids=CASES.keys())
def test_node_problem_messages(node, expected):
    assert problems_of(with_node(node)) == expected


@pytest.mark.parametrize("hours", ["Mo-Fr 25:00-26:00", "Mo-Fr 08:00-18:00;", "Fr 22:00-02:00", "montags"])
def test_bad_opening_hours_carry_the_parser_message(hours):
    with pytest.raises(ValueError) as raised:
        OpeningHours.parse(hours)
    node = f'{{kind: condition, branches: [{{if: {{hours: "{hours}"}}, goto: bye}}], else: bye}}'
    assert problems_of(with_node(node)) == [f"{AT} branches[0].if.hours: {raised.value}"]


WARNING_CASES = {
    "menu with six options": (
        menu(*(option(str(k), f"wort{k}") for k in range(1, 7))),
        [
            f"t.yaml:{OPTIONS_LINE - 1}: warning: node 'extra' options: menu has 6 options; callers remember "
            "at most 5 (person and emergency not counted): split it into two menus"
        ],
    ),
    "prompt longer than 30 seconds": (
        "{kind: say, prompt: [" + ", ".join(["Das ist ein langer Satz ohne Ende."] * 13) + "], next: bye}",
        [
            f"t.yaml:{EXTRA_LINE}: warning: node 'extra' prompt: prompt takes about 41.9 s to speak "
            "(estimated at 150 words per minute, pauses included); keep it under 30 s"
        ],
    ),
    "unreachable node": (
        "{kind: hangup}\n  island: {kind: say, prompt: Hallo, next: bye}",
        [f"t.yaml:{EXTRA_LINE + 1}: warning: node 'island': unreachable: no path leads here from 'start' or from the globals"],
    ),
}


@pytest.mark.parametrize("node, expected", WARNING_CASES.values(), ids=WARNING_CASES.keys())
def test_warnings_do_not_stop_the_load(node, expected):
    flow, problems = parse_flow_text(with_node(node), "t.yaml")
    assert [str(p) for p in problems] == expected
    assert flow is not None


def test_template_names_in_a_short_prompt_do_not_count_as_speech():
    node = '{kind: say, prompt: "' + "{{ caller.salutation }}" * 40 + '", next: bye}'
    assert problems_of(with_node(node)) == []


def test_all_problems_are_reported_together_and_sorted():
    text = HEAD.replace("start: menu", "start: menü") + (
        "nodes:\n  a: {kind: say, prompt: Hallo, next: b}\n  c: {kind: gahter}\n  bye: {kind: hangup}\n"
    )
    assert problems_of(text) == [
        "t.yaml:4: start: unknown node 'menü'",
        "t.yaml:9: node 'a' next: unknown node 'b'",
        f"t.yaml:10: node 'c': unknown kind 'gahter'; expected one of: {KINDS}",
    ]
