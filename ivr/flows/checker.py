"""Checks that look at more than one value: menu key and keyword clashes, dangling and unreachable nodes."""

from __future__ import annotations

from ivr.flows.model import Flow, MenuNode, Option
from ivr.flows.problems import Problem
from ivr.flows.schema import did_you_mean
from ivr.flows.yamlsource import Collector, Cursor

MOST_MENU_OPTIONS = 5  # callers keep about five choices in mind; person and emergency come on top


def check_menu(menu: MenuNode, at: Cursor, globals_: dict[str, Option]) -> None:
    """Every key and spoken phrase of a menu must pick one thing only, globals and repeat key included."""
    keys: dict[str, str] = {}
    phrases: dict[str, str] = {}
    for name, option in globals_.items():
        keys.setdefault(option.key, f"global '{name}'")
        for phrase in option.phrases:
            phrases.setdefault(_normal(phrase), f"global '{name}'")
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
        seen_here = set()
        for phrase in option.phrases:
            normal = _normal(phrase)
            owner = phrases.setdefault(normal, f"options[{index}]")
            if owner != f"options[{index}]":
                here.error(f"keyword '{phrase}' is also used by {owner}")
            elif normal in seen_here:
                here.error(f"keyword '{phrase}' is listed twice")
            seen_here.add(normal)
    if len(menu.options) > MOST_MENU_OPTIONS:
        (at / "options").warn(
            f"menu has {len(menu.options)} options; callers remember at most {MOST_MENU_OPTIONS} "
            f"(person and emergency not counted): split it into two menus"
        )


# How a prompt names the star key, per flow language (a number entry's way to the globals is `*` then the key).
STAR_WORDS = {"de": ("stern", "sternchen", "*"), "en": ("star", "*")}


def check_ask(ask, at: Cursor, globals_: dict[str, Option], language: str) -> None:
    """A choice is checked like a menu; during a number entry 0 and 9 are digits, so the prompt must say
    how a person and the emergency advice stay reachable: by a spoken keyword, or by `*` then the key."""
    if ask.options:
        check_menu(ask, at, globals_)
        return
    text = " ".join(ask.prompt.segments)
    words = _normal(text.replace("*", " * ")).split()
    star = any(w in words for w in STAR_WORDS.get(language, ("*",)))
    for name, option in globals_.items():
        by_word = any(_normal(k) in _normal(text) for k in option.phrases)
        by_key = star and option.key in words
        if not (by_word or by_key):
            (at / "prompt").error(
                f"during a number entry '{option.key}' is a digit: the prompt must say how to reach global "
                f"'{name}', by `*` then '{option.key}' (e.g. \"Stern und dann die {option.key}\") or by saying "
                f"'{option.keywords[0]}'")


def check_globals(globals_: dict[str, Option], at: Cursor) -> None:
    """The person and emergency options must not share a key or a spoken phrase."""
    person, emergency = globals_["person"], globals_["emergency"]
    if person.key == emergency.key:
        (at / "emergency" / "key").error(f"key '{emergency.key}' is also the key of global 'person'")
    shared = {_normal(p) for p in person.phrases} & {_normal(p) for p in emergency.phrases}
    for phrase in sorted(shared):
        (at / "emergency").error(f"keyword '{phrase}' is also used by global 'person'")


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


def _normal(phrase: str) -> str:
    """Compare phrases as the recogniser hears them: case and spacing do not matter."""
    return " ".join(phrase.casefold().split())


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
