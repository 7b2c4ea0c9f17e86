"""Fixture folders: every valid flow loads (with exactly the warnings listed next to it), every invalid
flow fails with exactly the lines in its .expected file, and the JSON Schema agrees on the valid ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from ivr.flows.loader import check_paths, load_flow_file
from ivr.flows.problems import FlowError
from ivr.flows.reference import flow_json_schema
from ivr.flows.yamlsource import parse_yaml

FIXTURES = Path(__file__).parent / "fixtures"
VALID = sorted((FIXTURES / "valid").glob("*.yaml"))
INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))


def expected_lines(flow_file: Path) -> list[str]:
    """The lines of the .expected file next to a fixture; none means no problems at all."""
    expected = flow_file.with_suffix(".expected")
    return expected.read_text(encoding="utf-8").splitlines() if expected.exists() else []


def check_in_place(flow_file: Path, monkeypatch) -> list[str]:
    """`hausruf check NAME` run in the fixture's folder, so expected files hold bare file names."""
    monkeypatch.chdir(flow_file.parent)
    return [str(p) for p in check_paths([flow_file.name])]


@pytest.mark.parametrize("flow_file", VALID, ids=[p.name for p in VALID])
def test_valid_flow_loads_with_its_expected_warnings(flow_file, monkeypatch):
    assert check_in_place(flow_file, monkeypatch) == expected_lines(flow_file)
    flow = load_flow_file(flow_file)
    assert flow.nodes and set(flow.globals) == {"person", "emergency"}


@pytest.mark.parametrize("flow_file", INVALID, ids=[p.name for p in INVALID])
def test_invalid_flow_reports_exactly_the_expected_lines(flow_file, monkeypatch):
    expected = expected_lines(flow_file)
    assert expected, f"{flow_file.name} needs a .expected file"
    assert check_in_place(flow_file, monkeypatch) == expected
    with pytest.raises(FlowError) as raised:
        load_flow_file(flow_file.name)
    assert str(raised.value).splitlines() == expected


def test_every_expected_file_belongs_to_a_fixture():
    for expected in FIXTURES.glob("*/*.expected"):
        assert expected.with_suffix(".yaml").exists(), expected


@pytest.fixture(scope="module")
def validator():
    schema = flow_json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("flow_file", VALID, ids=[p.name for p in VALID])
def test_json_schema_accepts_every_valid_fixture(flow_file, validator):
    document, _ = parse_yaml(flow_file.read_text(encoding="utf-8"), flow_file.name)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document.data)]
    assert errors == []


@pytest.mark.parametrize(
    "name, json_path",
    [
        ("unknown_kind.yaml", ["nodes", "main_menu", "kind"]),
        ("missing_globals.yaml", []),
        ("many_problems.yaml", ["version"]),
    ],
)
def test_json_schema_rejects_what_an_editor_can_catch(name, json_path, validator):
    document, _ = parse_yaml((FIXTURES / "invalid" / name).read_text(encoding="utf-8"), name)
    assert json_path in [list(e.absolute_path) for e in validator.iter_errors(document.data)]
