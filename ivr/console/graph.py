"""A flow as a picture: nodes and the keys, words and retries that lead from one to the next.

One walk over the flow (edges()) feeds both formats: Mermaid text (`hausruf graph FLOW`) and
Graphviz DOT, which Debian's `dot` turns into SVG for the console and `--format svg` (Mermaid's
own renderer downloads a browser, so the app draws with Graphviz).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from ivr.flows.model import (AskNode, CallbackNode, ConditionNode, ConnectNode, Flow, GotoNode, HangupNode,
                             MatchNode, MenuNode, MessageNode, SayNode, SendDetailsNode, HouseNewsNode,
                             HouseMessageNode)

KIND_NAMES = {SayNode: "Ansage", MenuNode: "Menü", ConnectNode: "Verbinden", CallbackNode: "Rückruf",
              MessageNode: "Nachricht", ConditionNode: "Bedingung", GotoNode: "Sprung", HangupNode: "Auflegen",
              AskNode: "Frage", MatchNode: "Wohnprojekte suchen", SendDetailsNode: "Angaben per SMS",
              HouseNewsNode: "Neues aus dem Haus", HouseMessageNode: "Nachricht an die Nachbarn"}
# Nodes where the caller chooses: drawn like menus.
CHOOSING = (MenuNode, AskNode)
GLOBALS_NODE = "_every_menu"


class GraphvizMissing(RuntimeError):
    """`dot` is not installed (Debian package graphviz)."""


@dataclass(frozen=True)
class Edge:
    """One way from a node to another, labelled with what takes it (a key and label, a retry, a test)."""

    source: str
    target: str
    label: str
    kind: str = "option"  # option, retry, fallback, next, global


TEST_NAMES = {"known": "Anrufer bekannt", "house": "Haus", "region": "Ort", "language": "Sprache",
              "hours": "Zeit", "service_available": "Dienst verfügbar", "service_open": "Dienst geöffnet",
              "answer": "Antwort"}


def _test_text(branch) -> str:
    value = branch.test.value
    if branch.test.kind == "answer":  # (answer name, the value or values it must have)
        name, expected = value
        shown = expected if isinstance(expected, str) else ", ".join(expected)
        return f"{TEST_NAMES['answer']} {name}: {shown}"
    if value is True or value is False:
        shown = "ja" if value else "nein"
    else:
        shown = ", ".join(value) if isinstance(value, tuple) else getattr(value, "text", value)
    return f"{TEST_NAMES.get(branch.test.kind, branch.test.kind)}: {shown}"


def edges(flow: Flow) -> list[Edge]:
    """Every edge of the flow, in file order."""
    found: list[Edge] = []
    for node in flow.nodes.values():
        add = lambda target, label, kind="next", source=node.id: target and found.append(Edge(source, target, label, kind))  # noqa: E731
        if isinstance(node, SayNode):
            add(node.next, "weiter")
        elif isinstance(node, MenuNode):
            for option in node.options:
                word = option.keywords[0] if option.keywords else ""
                spoken = f" / {word}" if word and word.lower() != option.label.lower() else ""
                add(option.goto, f"{option.key}: {option.label}{spoken}", "option")
            add(node.no_input.then, f"keine Eingabe ({node.no_input.retries}x)", "retry")
            add(node.no_match.then, f"nicht verstanden ({node.no_match.retries}x)", "retry")
        elif isinstance(node, AskNode):
            for choice in node.options:
                word = choice.keywords[0] if choice.keywords else ""
                spoken = f" / {word}" if word and word.lower() != choice.label.lower() else ""
                add(node.next, f"{choice.key}: {choice.label}{spoken}", "option")
            if node.number is not None:
                add(node.next, f"Zahl {node.number.low} bis {node.number.high}, dann #", "option")
            add(node.no_input.then, f"keine Eingabe ({node.no_input.retries}x)", "retry")
            add(node.no_match.then, f"nicht verstanden ({node.no_match.retries}x)", "retry")
        elif isinstance(node, MatchNode):
            add(node.found, "passende gefunden", "option")
            add(node.none, "nichts passt", "option")
        elif isinstance(node, HouseNewsNode):
            add(node.next, "weiter")
            add(node.unavailable, "kein Hauschat", "fallback")
        elif isinstance(node, HouseMessageNode):
            add(node.next, "gesendet")
            add(node.cancel, "abgebrochen", "fallback")
            add(node.no_input, "nichts gesagt", "retry")
            add(node.unavailable, "kein Hauschat", "fallback")
        elif isinstance(node, SendDetailsNode):
            add(node.next, "SMS geschickt")
            add(node.no_sms, "keine SMS möglich", "fallback")
        elif isinstance(node, ConnectNode):
            add(node.next, "Gespräch beendet")
            add(node.fallback, "besetzt / keine Antwort", "fallback")
            add(node.unavailable, "nicht verfügbar", "fallback")
            add(node.closed, "geschlossen", "fallback")
        elif isinstance(node, (CallbackNode, MessageNode)):
            add(node.next, "weiter")
            if isinstance(node, CallbackNode) and node.consent:
                add(node.no_consent, f"ohne Zustimmung ({node.consent})", "fallback")
            if isinstance(node, MessageNode):
                add(node.no_input, "nichts gesagt", "retry")
        elif isinstance(node, ConditionNode):
            for branch in node.branches:
                add(branch.goto, _test_text(branch), "option")
            add(node.otherwise, "sonst")
        elif isinstance(node, GotoNode):
            add(node.target, "weiter")
    for option in flow.globals.values():
        found.append(Edge(GLOBALS_NODE, option.goto, f"{option.key}: {option.label}", "global"))
    return _merged(found)


def _merged(found: list[Edge]) -> list[Edge]:
    """Parallel edges of one kind become one (busy, unavailable and closed often share a target; every choice
    of a question leads to the next question, one per line)."""
    merged: dict[tuple[str, str, str], Edge] = {}
    for edge in found:
        key = (edge.source, edge.target, "dashed" if edge.kind in ("retry", "fallback", "global") else "solid")
        if key in merged:
            joint = "\n" if edge.kind == "option" else ", "
            merged[key] = Edge(edge.source, edge.target, f"{merged[key].label}{joint}{edge.label}", merged[key].kind)
        else:
            merged[key] = edge
    return list(merged.values())


def node_label(flow: Flow, node_id: str) -> str:
    """'main_menu (Menü)'; a question names the answer it stores, a search what it ranks by."""
    if node_id == GLOBALS_NODE:
        return "in jedem Menü"
    node = flow.nodes.get(node_id)
    if node is None:
        return node_id
    label = f"{node_id} ({KIND_NAMES.get(type(node), '?')})"
    if isinstance(node, AskNode):
        return f"{label}\nspeichert answers.{node.answer}"
    if isinstance(node, MatchNode):
        return f"{label}\nnach " + ", ".join(f"{k}={v}" for k, v in node.criteria.items())
    return label


def mermaid(flow: Flow) -> str:
    """The flow as a Mermaid flowchart (paste into any Mermaid viewer, or a Markdown file)."""
    ids = {node_id: f"n{i}" for i, node_id in enumerate([*flow.nodes, GLOBALS_NODE])}
    lines = [f"%% {flow.name} ({flow.language}), revision {flow.revision[:12]}", "flowchart TD"]
    for node_id, short in ids.items():
        label = _mermaid_text(node_label(flow, node_id))
        shape = (f'{short}{{{{"{label}"}}}}' if isinstance(flow.nodes.get(node_id), CHOOSING)
                 else f'{short}(["{label}"])' if node_id == GLOBALS_NODE else f'{short}["{label}"]')
        lines.append(f"    {shape}")
    lines.append(f"    start((Start)) --> {ids[flow.start]}")
    for edge in edges(flow):
        arrow = "-.->" if edge.kind in ("retry", "fallback", "global") else "-->"
        lines.append(f'    {ids[edge.source]} {arrow}|"{_mermaid_text(edge.label)}"| {ids.get(edge.target, edge.target)}')
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br>")


def dot(flow: Flow) -> str:
    """The flow in Graphviz's DOT language."""
    lines = [f'digraph "{_dot_text(flow.name)}" {{',
             '  graph [rankdir=TB, fontname="DejaVu Sans", fontsize=12, nodesep=0.4, ranksep=0.5];',
             '  node [fontname="DejaVu Sans", fontsize=12, shape=box, style="rounded,filled", fillcolor="#ffffff"];',
             '  edge [fontname="DejaVu Sans", fontsize=11];',
             '  "_start" [label="Start", shape=circle, fillcolor="#e8f0e8"];',
             f'  "_start" -> "{_dot_text(flow.start)}";']
    for node_id in [*flow.nodes, GLOBALS_NODE]:
        node = flow.nodes.get(node_id)
        style = ('shape=box, style="rounded,filled,bold", fillcolor="#fff4d6"' if isinstance(node, CHOOSING)
                 else 'shape=note, fillcolor="#eeeeee"' if node_id == GLOBALS_NODE else "")
        lines.append(f'  "{_dot_text(node_id)}" [label="{_dot_text(node_label(flow, node_id))}"'
                     f'{", " + style if style else ""}];')
    for edge in edges(flow):
        style = ", style=dashed" if edge.kind in ("retry", "fallback", "global") else ""
        lines.append(f'  "{_dot_text(edge.source)}" -> "{_dot_text(edge.target)}" [label="{_dot_text(edge.label)}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def svg(flow: Flow) -> str:
    """The flow drawn by Graphviz as SVG text."""
    binary = shutil.which("dot")
    if binary is None:
        raise GraphvizMissing("Graphviz is not installed: `apt-get install graphviz` (scripts/bootstrap does it)")
    result = subprocess.run([binary, "-Tsvg"], input=dot(flow), capture_output=True, text=True, timeout=30,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"graphviz failed: {result.stderr.strip()[:500]}")
    # Drop the XML prologue and DOCTYPE so the SVG can sit inline in a page.
    text = result.stdout
    return text[text.index("<svg"):]
