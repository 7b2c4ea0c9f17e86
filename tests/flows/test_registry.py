"""The kind registry feeds the loader, the JSON Schema and the docs; these keep the three in step."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ivr.flows import model
from ivr.flows.kinds import FLOW_EXAMPLE, KINDS, TestType
from ivr.flows.loader import parse_flow_text
from ivr.flows.reference import REFERENCE_PATH, markdown_reference

ROOT = Path(__file__).resolve().parents[2]
# Nodes the examples lead to; the harness adds a hangup node for each one an example does not define.
EXAMPLE_NEIGHBOURS = ("main_menu", "person", "emergency", "groceries", "it_help", "leave_message", "goodbye")
MODELS = {
    "say": model.SayNode,
    "menu": model.MenuNode,
    "connect": model.ConnectNode,
    "callback": model.CallbackNode,
    "message": model.MessageNode,
    "condition": model.ConditionNode,
    "goto": model.GotoNode,
    "hangup": model.HangupNode,
    "ask": model.AskNode,
    "match": model.MatchNode,
    "send_details": model.SendDetailsNode,
    "house_news": model.HouseNewsNode,
    "house_message": model.HouseMessageNode,
}


def example_flow(example: str) -> str:
    """A whole flow around one kind's example: its node is the start, its neighbours are stubs."""
    node_id = example.split(":", 1)[0]
    stubs = "".join(f"  {n}: {{kind: hangup}}\n" for n in EXAMPLE_NEIGHBOURS if n != node_id)
    body = "".join(f"  {line}\n" for line in example.splitlines())
    return (
        f"version: 1\nname: example\nlanguage: de\nstart: {node_id}\n"
        "globals:\n"
        '  person: {key: "0", keywords: [mensch], goto: person}\n'
        '  emergency: {key: "9", keywords: [notfall], say: "Notfall: die 9.", advice: "Legen Sie auf und wählen Sie 112.", goto: emergency}\n'
        f"nodes:\n{body}{stubs}"
    )


@pytest.mark.parametrize("name", KINDS)
def test_every_example_loads_without_errors(name):
    flow, problems = parse_flow_text(example_flow(KINDS[name].example), "example.yaml")
    assert [str(p) for p in problems if p.severity == "error"] == []
    # An example may lead up to its kind (a match node reads answers asked before it).
    assert any(isinstance(node, MODELS[name]) for node in flow.nodes.values())


def test_flow_example_loads_without_any_problem():
    flow, problems = parse_flow_text(FLOW_EXAMPLE, "example.yaml")
    assert [str(p) for p in problems] == []
    assert flow.name == "hotline"


def test_registry_covers_every_node_model_and_test_kind():
    assert set(KINDS) == set(MODELS)
    assert tuple(TestType.TESTS) == tuple(TestType.DOCS) == model.TEST_KINDS


@pytest.mark.parametrize("name", KINDS)
def test_fields_of_a_kind_are_the_fields_of_its_model(name):
    yaml_fields = {f.attr or f.name for f in KINDS[name].record.fields} - {"kind"}
    model_fields = {f.name for f in dataclasses.fields(MODELS[name])} - {"id", "where"}
    assert yaml_fields == model_fields


def test_generated_reference_in_the_repository_is_up_to_date():
    committed = (ROOT / REFERENCE_PATH).read_text(encoding="utf-8")
    assert committed == markdown_reference(), "run: hausruf docs reference -o docs/flow-reference.md"


def test_reference_documents_every_kind_with_its_example():
    text = markdown_reference()
    for name, kind in KINDS.items():
        assert f"### {name}\n\n{kind.description}\n" in text
        assert kind.example in text
