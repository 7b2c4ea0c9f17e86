"""CLI mistakes are messages that say what was wrong and what is allowed, with exit code 2, never a traceback."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from ivr.cli import main
from tests.conftest import DEMO_DIR, FLOWS_DIR

ERIKA = "+49 30 23125301"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("HAUSRUF_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("HAUSRUF_ENV_FILE", "/nonexistent")

    def invoke(*args: str, stdin: str = ""):
        result = CliRunner().invoke(main, list(args), input=stdin)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        return result

    return invoke


@pytest.mark.parametrize("args, message", [
    (["--flow", "nosuch"], "Invalid value for '--flow': 'nosuch' is neither a flow nor a flow file; allowed: a flow "
                           "name (hotline) or the path of a flow file"),
    (["--at", "tomorrow"], "Invalid value for '--at': 'tomorrow' is not a date and time; allowed: 'YYYY-MM-DD "
                           "HH:MM', e.g. '2026-03-04 10:00' (local time)"),
    (["--at", "2026-02-30 10:00"], "'2026-02-30 10:00' is not a date and time"),
    (["--from", "hello"], "Invalid value for '--from': 'hello' is not a phone number; allowed: a number such as "
                          "'+49 30 23125301' or '030 23125301', or 'anonymous'"),
])
def test_call_with_a_bad_option_names_it_and_what_is_allowed(run, args, message):
    options = {"--from": ERIKA, "--at": "2026-03-04 10:00"}
    options.update(dict(zip(args[::2], args[1::2])))
    result = run("call", *[item for pair in options.items() for item in pair])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_a_withheld_number_is_an_unknown_caller(run):
    result = run("call", "--from", "anonymous", "--at", "2026-03-04 10:00")
    assert result.exit_code == 0 and "unknown caller" in result.output


def test_hausruf_test_on_a_file_without_tests_says_so(run, tmp_path):
    result = run("test", str(FLOWS_DIR / "hotline.yaml"))
    assert result.exit_code == 2
    assert "hotline.yaml:1: no tests: add a 'tests:' list" in result.output
    assert "0 passed, 0 failed; 1 of 1 files are not conversation tests that can run" in result.output
    assert "-1 passed" not in result.output


def test_import_refuses_a_file_name_it_does_not_know(run, tmp_path):
    folder = shutil.copytree(DEMO_DIR, tmp_path / "directory")
    (folder / "tenants.yaml").rename(folder / "tennants.yaml")
    result = run("import", str(folder))
    assert result.exit_code == 2
    assert (f"{folder / 'tennants.yaml'}: not a directory file name; allowed: regions, houses, tenants, volunteers, "
            "partners (each .yaml, .yml or .csv)") in result.output
    assert not (tmp_path / "db.sqlite3").exists()  # nothing imported, not even the files it knows
