"""Answers are variables the flow declares itself: an `ask` node stores one, prompts, conditions and match
nodes read it. An answer read on some path from the start (or from a global) that passes no `ask` storing
it would be empty on a live call, so it is an error, found here by a must-pass data flow over the nodes.
"""

from __future__ import annotations

import re

from jinja2 import Environment, TemplateSyntaxError, nodes

from ivr.flows import model as m
from ivr.flows.schema import did_you_mean
from ivr.flows.yamlsource import Collector, Cursor

_parser = Environment()


def template_answers(source: str) -> list[str]:
    """The answer names a template reads: `answers.town`, `answers['town']`."""
    if "answers" not in source:
        return []
    try:
        tree = _parser.parse(source)
    except TemplateSyntaxError:
        return []  # the template checker reports the syntax error
    names = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node.node, nodes.Name) and node.node.name == "answers":
            if isinstance(node, nodes.Getattr):
                names.append(node.attr)
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                names.append(node.arg.value)
    return names


def _prompts(node) -> list[tuple[str, m.Prompt]]:
    """Every prompt of a node, with the key path that names it."""
    found = []
    for name in ("prompt", "none_prompt", "whisper"):
        prompt = getattr(node, name, None)
        if isinstance(prompt, m.Prompt):
            found.append((name, prompt))
    for name in ("no_input", "no_match"):
        retry = getattr(node, name, None)
        if isinstance(retry, m.Retry) and retry.prompt is not None:
            found.append((f"{name}.prompt", retry.prompt))
    for index, option in enumerate(getattr(node, "options", ()) or ()):
        if getattr(option, "say", None) is not None:
            found.append((f"options[{index}].say", option.say))
    return found


TEMPLATE = "template"


def answers_read(node) -> list[tuple[str, str, str]]:
    """(answer name, where in the node, TEMPLATE or field) for everything a node reads."""
    used = []
    for where, prompt in _prompts(node):
        for segment in prompt.segments:
            used += [(name, where, TEMPLATE) for name in template_answers(segment)]
    if isinstance(node, m.MatchNode):
        used += [(name, f"criteria.{criterion}", "field") for criterion, name in node.criteria.items()]
    if isinstance(node, (m.MatchNode, m.CallbackNode)) and node.consent:
        used.append((node.consent, "consent", "field"))
    if isinstance(node, m.CallbackNode) and node.topic:
        used += [(name, "topic", TEMPLATE) for name in template_answers(node.topic)]
    if isinstance(node, m.ConditionNode):
        used += [(b.test.value[0], f"branches[{i}].if.answer", "field") for i, b in enumerate(node.branches)
                 if b.test.kind == "answer"]
    return used


def check_answers(flow_nodes: dict, collector: Collector, at: Cursor) -> None:
    """Report every answer read where some path from a root reaches it without an ask storing it."""
    stored_anywhere = sorted({n.answer for n in flow_nodes.values() if isinstance(n, m.AskNode)})
    edges: dict[str | None, list[tuple[str, str | None]]] = {}
    for target, place in collector.references:
        source = place.node_id
        node = flow_nodes.get(source) if source else None
        carries = node.answer if isinstance(node, m.AskNode) and place.keypath[2:] == ("next",) else None
        edges.setdefault(source, []).append((target, carries))
    universe = frozenset(stored_anywhere)
    known: dict[str, frozenset[str]] = {}  # node id -> answers stored on every path that reaches it
    todo = []
    for target, _ in edges.get(None, ()):  # start and the globals' targets
        known[target] = frozenset()
        todo.append(target)
    while todo:
        source = todo.pop()
        for target, carries in edges.get(source, ()):
            if target not in flow_nodes:
                continue
            arriving = known[source] | ({carries} if carries else set())
            before = known.get(target, universe)
            after = before & arriving
            if target not in known or after != before:
                known[target] = after
                todo.append(target)
    for node_id, node in flow_nodes.items():
        have = known.get(node_id, universe)  # unreachable nodes get their own warning
        for name, where, source in answers_read(node):
            here = at / node_id
            for key in re.findall(r"[^.\[\]]+", where):
                here = here / (int(key) if key.isdigit() else key)
            if name not in stored_anywhere and source == TEMPLATE:
                continue  # the template checker names unknown variables (ivr/flows/templates.py)
            if name not in stored_anywhere:
                listed = ", ".join(stored_anywhere) or "none"
                here.error(f"answer '{name}' is not stored by any ask node (they store: {listed})"
                           f"{did_you_mean(name, stored_anywhere)}")
            elif name not in have:
                here.error(f"answer '{name}' is used here, but a path from the start reaches this node "
                           f"without passing an ask node that stores it")
