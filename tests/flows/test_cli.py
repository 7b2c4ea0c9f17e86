"""`hausruf check`, `hausruf schema` and `hausruf docs reference` through click's CliRunner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.flows.reference import flow_json_schema, markdown_reference

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def flows_dir(tmp_path, monkeypatch):
    """A flows folder with one valid flow, one with warnings, and a conversation test subfolder."""
    folder = tmp_path / "flows"
    (folder / "tests").mkdir(parents=True)
    shutil.copy(FIXTURES / "valid" / "minimal.yaml", folder / "minimal.yaml")
    shutil.copy(FIXTURES / "valid" / "warnings.yaml", folder / "warnings.yml")
    (folder / "tests" / "minimal.yaml").write_text("not: a flow\n")
    monkeypatch.chdir(tmp_path)
    return folder


def test_check_clean_directory_with_warnings_exits_0(runner, flows_dir):
    result = runner.invoke(main, ["check", "flows"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        line.replace("warnings.yaml", "flows/warnings.yml")
        for line in (FIXTURES / "valid" / "warnings.expected").read_text().splitlines()
    ]
    assert result.stderr == "0 errors, 4 warnings in 2 files\n"


def test_check_defaults_to_the_configured_flows_dir(runner, flows_dir, monkeypatch):
    monkeypatch.setenv("HAUSRUF_FLOWS_DIR", str(flows_dir / "tests"))  # absolute, printed relative
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "flows/tests/minimal.yaml:1: missing required key 'globals' (the person and emergency options, offered in every menu)",
        "flows/tests/minimal.yaml:1: missing required key 'language' (language of the prompts and keywords)",
        "flows/tests/minimal.yaml:1: missing required key 'name' (the flow's name, e.g. `hotline`)",
        "flows/tests/minimal.yaml:1: missing required key 'nodes' (the nodes, by id)",
        "flows/tests/minimal.yaml:1: missing required key 'start' (the first node of a call)",
        "flows/tests/minimal.yaml:1: missing required key 'version' (format version of the file)",
        "flows/tests/minimal.yaml:1: unknown key 'not'; expected one of: "
        "defaults, globals, language, name, nodes, start, version",
    ]
    assert result.stderr == "7 errors, 0 warnings in 1 file\n"


def test_check_errors_exit_1_with_exact_lines(runner, flows_dir):
    bad = flows_dir / "broken.yaml"
    bad.write_text((FIXTURES / "valid" / "minimal.yaml").read_text().replace("goto: staff}", "goto: staf}", 1))
    result = runner.invoke(main, ["check", "flows/broken.yaml", "flows/minimal.yaml"])
    assert result.exit_code == 1
    assert result.stdout == "flows/broken.yaml:6: globals.person.goto: unknown node 'staf'; did you mean 'staff'?\n"
    assert result.stderr == "1 error, 0 warnings in 2 files\n"


def test_check_reports_one_flow_defined_twice(runner, flows_dir):
    shutil.copy(flows_dir / "minimal.yaml", flows_dir / "minimal-copy.yaml")
    result = runner.invoke(main, ["check", "flows/minimal.yaml", "flows/minimal-copy.yaml"])
    assert result.exit_code == 1
    assert result.stdout == (
        "flows/minimal.yaml:2: flow 'minimal' in language 'de' is also defined in flows/minimal-copy.yaml\n"
    )


def test_check_missing_path_is_an_error(runner, flows_dir):
    result = runner.invoke(main, ["check", "nowhere.yaml"])
    assert result.exit_code == 1
    assert result.stdout == "nowhere.yaml:1: no such file or directory\n"
    assert result.stderr == "1 error, 0 warnings in 0 files\n"


def test_check_syntax_error_names_the_line(runner, flows_dir):
    shutil.copy(FIXTURES / "invalid" / "syntax_error.yaml", flows_dir / "syntax.yaml")
    result = runner.invoke(main, ["check", str(flows_dir / "syntax.yaml")])  # absolute in, relative out
    assert result.exit_code == 1
    assert result.stdout == (
        "flows/syntax.yaml:8: YAML syntax error: expected ',' or '}', but got ':' "
        "(while parsing a flow mapping that starts on line 7)\n"
    )


def test_schema_prints_the_json_schema(runner):
    result = runner.invoke(main, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == flow_json_schema()


def test_docs_reference_prints_and_writes(runner, tmp_path):
    printed = runner.invoke(main, ["docs", "reference"])
    assert printed.exit_code == 0
    assert printed.stdout == markdown_reference()
    written = runner.invoke(main, ["docs", "reference", "-o", str(tmp_path / "ref.md")])
    assert written.exit_code == 0
    assert (tmp_path / "ref.md").read_text(encoding="utf-8") == markdown_reference()
