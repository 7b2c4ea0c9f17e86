"""Checks that look at more than one value: menu key and keyword clashes, dangling and unreachable nodes."""

from __future__ import annotations

from ivr.engine.words import normalise, repeat_words
from ivr.flows.listening import LONGEST_MENU_SECONDS, menu_listening
from ivr.flows.model import Flow, MenuNode, Option
from ivr.flows.problems import Problem
from ivr.flows.schema import did_you_mean
from ivr.flows.templates import template_problems
from ivr.flows.variables import engine_variables
from ivr.flows.yamlsource import Collector, Cursor

MOST_MENU_OPTIONS = 5  # callers keep about five choices in mind; person and emergency come on top


def check_menu(menu: MenuNode, at: Cursor, globals_: dict[str, Option], language: str) -> None:
    """Every key and spoken phrase of a menu must pick one thing only, globals and repeat words included.

    Phrases are compared as the engine compares what a caller said (ivr.engine.words.normalise):
    `Müll` and `muell`, `hilfe!` and `hilfe` are the same word on a live call, so they clash here too.
    """
    keys: dict[str, str] = {}
    phrases = _Phrases(at, language)
    for name, option in globals_.items():
        keys.setdefault(option.key, f"global '{name}'")
        for phrase in option.phrases:
            phrases.owners.setdefault(normalise(phrase), (f"global '{name}'", phrase))
    if menu.repeat_key is not None:
        owner = keys.get(menu.repeat_key)
        if owner:
            (at / "repeat_key").error(f"repeat key '{menu.repeat_key}' is also the key of {owner}")
        keys.setdefault(menu.repeat_key, "the repeat key")
    for index, option in enumerate(menu.options):
        here = at / "options" / index
        owner = keys.setdefault(option.key, f"options[{index}]")
        if owner != f"options[{index}]":
            (here / "key").error(f"key '{option.key}' is also used by {owner}")
        phrases.add(option, f"options[{index}]", here)
    listening = menu_listening(menu, globals_)
    if listening.total > LONGEST_MENU_SECONDS:
        at.warn(
            f"callers listen about {listening.total:.1f} s before they have heard every option "
            f"({listening.speech:.1f} s of speech, {listening.pauses:.0f} s of pauses, "
            f"{listening.before_first_option:.1f} s before the first option); keep a menu under "
            f"{LONGEST_MENU_SECONDS} s: a shorter introduction, shorter option texts, fewer options"
        )
    if len(menu.options) > MOST_MENU_OPTIONS:
        (at / "options").warn(
            f"menu has {len(menu.options)} options; callers remember at most {MOST_MENU_OPTIONS} "
            f"(person and emergency not counted): split it into two menus"
        )


def check_globals(globals_: dict[str, Option], at: Cursor, language: str) -> None:
    """The person and emergency options must not share a key or a spoken phrase, nor use a repeat word."""
    person, emergency = globals_["person"], globals_["emergency"]
    if person.key == emergency.key:
        (at / "emergency" / "key").error(f"key '{emergency.key}' is also the key of global 'person'")
    phrases = _Phrases(at, language)
    phrases.add(person, "global 'person'", at / "person")
    phrases.add(emergency, "global 'emergency'", at / "emergency")


class _Phrases:
    """The spoken phrases of one menu by their normal form, reporting each that picks two things."""

    def __init__(self, at: Cursor, language: str):
        self.owners: dict[str, tuple[str, str]] = {}  # normal form -> (owner, phrase as written)
        self.repeat = {normalise(word): word for word in repeat_words(language)}

    def add(self, option: Option, owner: str, here: Cursor) -> None:
        seen_here: dict[str, str] = {}
        for phrase in option.phrases:
            normal = normalise(phrase)
            if not normal:
                here.error(f"keyword '{phrase}' has no letters or digits a caller could say")
            elif normal in self.repeat:
                here.error(f"keyword '{phrase}' is a repeat word{_as(phrase, self.repeat[normal])}: saying it "
                           f"repeats the menu ({', '.join(self.repeat.values())})")
            elif normal in seen_here:
                here.error(f"keyword '{phrase}' is listed twice{_as(phrase, seen_here[normal])}")
            elif normal in self.owners and self.owners[normal][0] != owner:
                other, written = self.owners[normal]
                here.error(f"keyword '{phrase}' is also used by {other}{_as(phrase, written)}")
            seen_here.setdefault(normal, phrase)
            self.owners.setdefault(normal, (owner, phrase))


def _as(phrase: str, other: str) -> str:
    """` as 'Müll'` when the clash is not plain to see (beyond case), else ''."""
    if phrase.lower() == other.lower():
        return ""
    return f" as '{other}' (case, umlauts and punctuation do not count)"


def check_references(collector: Collector, node_ids: list[str], at: Cursor) -> None:
    """Report references to unknown nodes, and nodes no path reaches from `start` or the globals."""
    known = set(node_ids)
    edges: dict[str | None, set[str]] = {}
    dangling = False
    for target, place in collector.references:
        if target not in known:
            place.error(f"unknown node '{target}'{did_you_mean(target, sorted(known))}")
            dangling = True
        edges.setdefault(place.node_id, set()).add(target)
    if dangling or not any(place.keypath == ("start",) for _, place in collector.references):
        return  # a broken start or reference makes nodes look unreachable; fix those first
    # References outside `nodes` (start, globals) have no node id: they are the roots.
    reached: set[str] = set()
    todo = list(edges.get(None, ()))
    while todo:
        node_id = todo.pop()
        if node_id in reached:
            continue
        reached.add(node_id)
        todo.extend(edges.get(node_id, ()))
    for node_id in node_ids:
        if node_id not in reached:
            (at / node_id).warn("unreachable: no path leads here from 'start' or from the globals")


def check_templates(collector: Collector) -> None:
    """Every template of the flow against the variables the engine provides and those the flow declares."""
    variables = engine_variables(collector.declared)
    for source, place in collector.templates:
        for problem in template_problems(source, variables):
            place.error_in_field(problem)


def duplicate_flows(flows: list[Flow]) -> list[Problem]:
    """Two files that define the same flow in the same language: the later file (by path) is reported."""
    first: dict[tuple[str, str], Flow] = {}
    problems = []
    for flow in sorted(flows, key=lambda f: f.where.path):
        earlier = first.setdefault((flow.name, flow.language), flow)
        if earlier is not flow:
            problems.append(Problem(
                flow.where.path,
                flow.where.line,
                f"flow '{flow.name}' in language '{flow.language}' is also defined in {earlier.where.path}",
            ))
    return problems
