"""Inline flow texts for tests: a small valid flow with one node, `extra`, under test at a known line."""

from __future__ import annotations

from ivr.flows.loader import parse_flow_text

PATH = "t.yaml"
HEAD = """\
version: 1
name: t
language: de
start: menu
globals:
  person: {key: "0", keywords: [mensch], goto: bye}
  emergency: {key: "9", keywords: [notfall], say: "Notfall: die 9.", advice: "Legen Sie auf und wählen Sie 112.", goto: bye}
"""
BASE_NODES = """\
nodes:
  menu:
    kind: menu
    prompt: "Bitte wählen."
    options:
      - {key: "1", label: Eins, keywords: [eins], goto: extra}
    no_input: {then: bye}
    no_match: {then: bye}
  bye: {kind: hangup}
"""
EXTRA_LINE = 17  # the line of `extra:`; the menu leads there, so it is reachable


def with_node(node: str) -> str:
    """The base flow plus node `extra`, given as the YAML after `extra:` (flow style or an indented block)."""
    return HEAD + BASE_NODES + f"  extra: {node}\n"


def problems_of(text: str) -> list[str]:
    """Every problem of a flow text, as `hausruf check` prints it."""
    return [str(p) for p in parse_flow_text(text, PATH)[1]]
