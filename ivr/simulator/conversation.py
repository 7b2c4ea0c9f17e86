"""Flow conversation tests: YAML scripts of a caller's keys and words with what the hotline must do.

    version: 1
    flow: hotline                  # flow name; the caller's language picks the file
    tests:
      - name: known tenant books an IT-helper callback
        caller: "+4927150123401"   # a number of the directory, or inline facts:
        # to: "+4927150000002"     # the number called: HAUSRUF_NUMBERS picks the flow
        # caller: {known: true, salutation: Frau Becker, house: lindenweg, region: siegen, language: de}
        at: "2026-03-04 10:00"     # local time; default Wednesday 4 March 2026, 10:00
        services: {meals: unavailable, groceries: closed}   # inline callers only; others are open
        chat:                      # the house chat room as the worker stored it (house_news nodes)
          - {from: Petra, text: "Wer hat Mehl?", at: "2026-03-03 18:00"}
          - {from: Ali, kind: image, text: kuchen.jpg, at: "2026-03-04 09:00"}
          - {from: Petra, text: "Ich bringe Ihnen eins!", answer: true}   # answers a post for this caller
          - {from: Frau Becker, by_phone: true, text: "Wer hat ein Ei?"}    # the hotline posted it for her
        steps:
          - hears: "Guten Tag, Frau Becker"
          - asks: main_menu
          - press: "5"
          - books: volunteers

Caller steps: press, say, silence, dial (completed|busy|no-answer|failed), record (text or null), hangup.
Expectations check the actions since the previous caller step: hears, not_hears, asks, dials,
whisper, books, outcome, not_outcome, ends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ivr.engine.actions import Action, Ask, BookCallback, Dial, Hangup, Outcome, Say
from ivr.engine.context import CallContext, Caller, ServiceStatus, SERVICE_STATUSES
from ivr.engine.events import DIAL_OUTCOMES, CallerHungUp, DialFinished, DigitsPressed, Event, NoInput
from ivr.engine.events import RecordingFinished, WordsSpoken
from ivr.engine.housenews import BY_PHONE, NewsItem
from ivr.flows.model import SERVICE_KINDS, Flow
from ivr.flows.problems import Problem
from ivr.housing.actions import BookProjectCallback
from ivr.simulator.session import SimulatedCall

DEFAULT_AT = "2026-03-04 10:00"  # a Wednesday morning: offices and partners open
CALLER_STEPS = ("press", "say", "silence", "dial", "record", "hangup")
EXPECTATIONS = ("hears", "not_hears", "asks", "dials", "whisper", "books", "outcome", "not_outcome", "ends")
TEST_KEYS = ("name", "caller", "to", "at", "services", "language", "chat", "steps")
CALLER_FACTS = ("known", "first_name", "last_name", "salutation", "language", "house", "house_name",
                "region", "region_name", "number", "house_chat")
CHAT_KEYS = ("from", "text", "at", "kind", "answer", "by_phone")
CHAT_KINDS = ("text", "image", "file", "audio", "video", "location")

# Given a caller number and a local time, return the context the directory would build.
DirectoryContext = Callable[[str, datetime], CallContext]


@dataclass(frozen=True)
class Step:
    """One line of a test script: a caller step or an expectation."""

    verb: str
    value: Any
    line: int


@dataclass(frozen=True)
class ConversationTest:
    """One scripted call."""

    name: str
    path: str
    line: int
    flow: str
    caller: Any  # a number (str) or a mapping of caller facts
    at: datetime
    services: dict[str, Any]
    language: str | None
    steps: tuple[Step, ...]
    to: str | None = None  # the number called: HAUSRUF_NUMBERS picks the flow instead of `flow`
    chat: tuple[NewsItem, ...] | None = None  # the house room as stored; None: as the directory has it


@dataclass(frozen=True)
class TestResult:
    """Pass, or the first failing step with its line and what happened instead."""

    test: ConversationTest
    failure: str | None = None
    line: int | None = None

    @property
    def passed(self) -> bool:
        return self.failure is None

    def __str__(self) -> str:
        if self.passed:
            return f"ok   {self.test.path}:{self.test.line}: {self.test.name}"
        return f"FAIL {self.test.path}:{self.line}: {self.test.name}: {self.failure}"


def parse_tests(text: str, path: str, timezone: str = "Europe/Berlin") -> tuple[list[ConversationTest], list[Problem]]:
    """Conversation tests of one file, or the problems that make it unreadable."""
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [], [Problem(path, (mark.line + 1) if mark else 1, f"YAML syntax error: {getattr(exc, 'problem', exc)}")]
    problems: list[Problem] = []
    if not isinstance(data, dict) or data.get("version") != 1:
        return [], [Problem(path, 1, "conversation tests need 'version: 1' at the top")]
    flow = str(data.get("flow") or "hotline")
    tests = []
    for index, item in enumerate(data.get("tests") or []):
        line = data["tests"].lc.item(index)[0] + 1
        test, item_problems = _parse_test(item, path, line, flow, ZoneInfo(timezone))
        problems.extend(item_problems)
        if test:
            tests.append(test)
    if not tests and not problems:
        problems.append(Problem(path, 1, "no tests: add a 'tests:' list"))
    return tests, problems


def _line(mapping, key, default: int) -> int:
    try:
        return mapping.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return default


def _parse_test(item, path: str, line: int, flow: str, zone: ZoneInfo):
    if not isinstance(item, dict):
        return None, [Problem(path, line, "a test must be a mapping with name, caller and steps")]
    problems = [Problem(path, _line(item, key, line), f"unknown key '{key}'; allowed: {', '.join(TEST_KEYS)}")
                for key in item if key not in TEST_KEYS]
    name = str(item.get("name") or f"test at line {line}")
    caller = item.get("caller")
    if caller is None:
        problems.append(Problem(path, line, f"test '{name}': 'caller' is required (a number or caller facts)"))
    elif isinstance(caller, dict):
        problems += [Problem(path, _line(caller, key, line), f"unknown caller fact '{key}'; allowed: {', '.join(CALLER_FACTS)}")
                     for key in caller if key not in CALLER_FACTS]
    try:
        at = datetime.strptime(str(item.get("at") or DEFAULT_AT), "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    except ValueError:
        problems.append(Problem(path, _line(item, "at", line), f"'at' must look like {DEFAULT_AT!r}, got {item.get('at')!r}"))
        at = datetime.now(zone)
    services = dict(item.get("services") or {})
    for kind, value in services.items():
        status = value.get("status") if isinstance(value, dict) else value
        if kind not in SERVICE_KINDS:
            problems.append(Problem(path, _line(item["services"], kind, line),
                                    f"unknown service '{kind}'; expected one of: {', '.join(SERVICE_KINDS)}"))
        elif status not in SERVICE_STATUSES:
            problems.append(Problem(path, _line(item["services"], kind, line),
                                    f"service '{kind}': status {status!r}; expected one of: {', '.join(SERVICE_STATUSES)}"))
    chat, chat_problems = _parse_chat(item, path, line, at)
    problems += chat_problems
    steps = []
    raw_steps = item.get("steps") or []
    for index, raw in enumerate(raw_steps):
        step_line = raw_steps.lc.item(index)[0] + 1
        if isinstance(raw, str):
            raw = {raw: True}
        if not isinstance(raw, dict) or len(raw) != 1:
            problems.append(Problem(path, step_line, "a step is one 'verb: value' pair"))
            continue
        (verb, value), = raw.items()
        if verb not in CALLER_STEPS + EXPECTATIONS:
            problems.append(Problem(path, step_line, f"unknown step '{verb}'; expected one of: {', '.join(CALLER_STEPS + EXPECTATIONS)}"))
        elif verb == "dial" and value not in DIAL_OUTCOMES:
            problems.append(Problem(path, step_line, f"dial outcome {value!r}; expected one of: {', '.join(DIAL_OUTCOMES)}"))
        steps.append(Step(verb, value, step_line))
    if not raw_steps:
        problems.append(Problem(path, line, f"test '{name}': no steps"))
    test = ConversationTest(name=name, path=path, line=line, flow=flow, caller=caller, at=at, services=services,
                            language=item.get("language"), steps=tuple(steps),
                            to=str(item["to"]) if item.get("to") else None, chat=chat)
    return (None if problems else test), problems


def _parse_chat(item, path: str, line: int, at: datetime) -> tuple[tuple[NewsItem, ...] | None, list[Problem]]:
    """The `chat:` list: messages of the caller's house room, each with sender, text and time (default: `at`)."""
    if "chat" not in item:
        return None, []
    raw = item["chat"] or []
    if not isinstance(raw, list):
        return None, [Problem(path, _line(item, "chat", line), "'chat' must be a list of messages like "
                                                                "{from: Petra, text: 'Wer hat Mehl?'}")]
    problems, messages = [], []
    for index, entry in enumerate(raw):
        where = raw.lc.item(index)[0] + 1 if hasattr(raw, "lc") else line
        if not isinstance(entry, dict) or not entry.get("from") or "text" not in entry:
            problems.append(Problem(path, where, "a chat message needs 'from' and 'text'"))
            continue
        problems += [Problem(path, where, f"unknown chat key '{key}'; allowed: {', '.join(CHAT_KEYS)}")
                     for key in entry if key not in CHAT_KEYS]
        kind = str(entry.get("kind", "text"))
        if kind not in CHAT_KINDS:
            problems.append(Problem(path, where, f"chat kind {kind!r}; expected one of: {', '.join(CHAT_KINDS)}"))
        try:
            sent = datetime.strptime(str(entry["at"]), "%Y-%m-%d %H:%M").replace(tzinfo=at.tzinfo) \
                if entry.get("at") else at
        except ValueError:
            problems.append(Problem(path, where, f"chat 'at' must look like {DEFAULT_AT!r}, got {entry.get('at')!r}"))
            continue
        by_phone = bool(entry.get("by_phone"))
        body = f"{entry['from']}{BY_PHONE}{entry['text']}" if by_phone else str(entry["text"])
        messages.append(NewsItem(str(entry["from"]), body, f"m.{kind}", sent, from_hotline=by_phone,
                                 answer_to_caller=bool(entry.get("answer"))))
    return tuple(messages), problems


def inline_context(test: ConversationTest, staff_number: str = "+4930555000") -> CallContext:
    """A context from the caller facts and service statuses written in the test itself."""
    facts = dict(test.caller or {})
    caller = Caller(
        number=str(facts.get("number") or "+4930555999"),
        known=bool(facts.get("known", True)),
        first_name=str(facts.get("first_name", "")),
        last_name=str(facts.get("last_name", "")),
        salutation=str(facts.get("salutation", "")),
        language=facts.get("language") or test.language,
        house_id=facts.get("house"),
        house_name=str(facts.get("house_name", facts.get("house") or "")),
        region_id=facts.get("region"),
        region_name=str(facts.get("region_name", facts.get("region") or "")),
        house_chat=bool(facts.get("house_chat", False)),
    )
    services = {}
    for kind in SERVICE_KINDS:
        spec = test.services.get(kind, "open")
        spec = spec if isinstance(spec, dict) else {"status": spec}
        services[kind] = ServiceStatus(
            kind=kind, status=spec["status"], partner_name=str(spec.get("partner", f"Partner {kind}")),
            numbers=tuple(spec.get("numbers", ("+4930555100",))), whisper=str(spec.get("whisper", "")),
            hours_text=str(spec.get("hours", "montags bis freitags von 8 bis 18 Uhr")),
        )
    volunteers = ("+4915550000001", "+4915550000002") if caller.house_id else ()
    return CallContext(now=test.at, caller=caller, services=services, volunteer_numbers=volunteers,
                       staff_number=staff_number, house_news=test.chat or ())


def run_test(test: ConversationTest, flow_for: Callable[[str | None], Flow],
             directory: DirectoryContext | None = None) -> TestResult:
    """Play one test against the flow; stop at the first expectation that fails."""
    if isinstance(test.caller, str):
        if directory is None:
            return TestResult(test, "caller given by number, but no directory is loaded", test.line)
        context = directory(test.caller, test.at)
        if test.chat is not None:
            context = replace(context, house_news=test.chat)
    else:
        context = inline_context(test)
    try:
        flow = flow_for(test.language or context.caller.language)
    except KeyError as exc:  # the flow file is broken (its problems are printed) or missing
        return TestResult(test, str(exc.args[0]), test.line)
    call = SimulatedCall(flow, context)
    recent: list[Action] = list(call.start())
    for step in test.steps:
        if step.verb in CALLER_STEPS:
            if call.state.finished:
                return TestResult(test, f"the call had already ended before '{step.verb}'", step.line)
            recent = list(call.send(_event(step)))
            continue
        failure = _check(step, recent, call)
        if failure:
            return TestResult(test, failure, step.line)
    return TestResult(test)


def _event(step: Step) -> Event:
    value = step.value
    if step.verb == "press":
        return DigitsPressed(str(value))
    if step.verb == "say":
        return WordsSpoken(str(value))
    if step.verb == "silence":
        return NoInput()
    if step.verb == "dial":
        return DialFinished(outcome=str(value), seconds=60 if value in ("completed", "answered") else 0)
    if step.verb == "record":
        return RecordingFinished(reference=f"simulated:{value}" if value else None, seconds=10 if value else 0)
    return CallerHungUp()


def _heard(actions: list[Action]) -> list[str]:
    return [s for a in actions if isinstance(a, (Say, Ask)) for s in a.segments]


def _check(step: Step, actions: list[Action], call: SimulatedCall) -> str | None:
    """None when the expectation holds, else what happened instead."""
    value = step.value
    heard = _heard(actions)
    if step.verb in ("hears", "not_hears"):
        found = any(str(value).lower() in segment.lower() for segment in heard)
        if found == (step.verb == "hears"):
            return None
        verb = "expected to hear" if step.verb == "hears" else "expected not to hear"
        return f"{verb} {value!r}; heard: {' | '.join(heard) or 'nothing'}"
    if step.verb == "asks":
        asked = [a.node for a in actions if isinstance(a, Ask)]
        return None if value in asked else f"expected menu '{value}'; asked: {', '.join(asked) or 'no menu'}"
    dials = [a for a in actions if isinstance(a, Dial)]
    if step.verb == "dials":
        return None if any(str(value) in d.target for d in dials) else \
            f"expected a dial to {value!r}; dialled: {', '.join(d.target for d in dials) or 'nobody'}"
    if step.verb == "whisper":
        return None if any(str(value).lower() in d.whisper.lower() for d in dials) else \
            f"expected whisper {value!r}; whispers: {' | '.join(d.whisper for d in dials) or 'none'}"
    if step.verb == "books":
        booked = [a.audience for a in actions if isinstance(a, BookCallback)]
        booked += ["project" if a.project else "staff" for a in actions if isinstance(a, BookProjectCallback)]
        return None if value in booked else f"expected a callback for {value!r}; booked: {', '.join(booked) or 'none'}"
    if step.verb in ("outcome", "not_outcome"):
        kinds = [a.kind for a in actions if isinstance(a, Outcome)]
        if (value in kinds) == (step.verb == "outcome"):
            return None
        verb = "expected outcome" if step.verb == "outcome" else "expected no outcome"
        return f"{verb} {value!r}; outcomes: {', '.join(kinds) or 'none'}"
    ended = call.state.finished or any(isinstance(a, Hangup) for a in actions)
    return None if ended == bool(value) else ("expected the call to end" if value else "expected the call to go on")


def load_test_files(paths: list[Path]) -> list[Path]:
    """Conversation test files: given files, or *.yaml in given folders and their tests/ subfolder."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            folder = path / "tests" if (path / "tests").is_dir() else path
            files.extend(sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")))
        else:
            files.append(path)
    return files
