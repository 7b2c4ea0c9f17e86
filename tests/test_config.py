"""The settings registry: every value parsed and checked, every problem named at once, exit code 2 at start."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.config import (Settings, SettingsError, effective_settings, load_settings, startup_problems)
from ivr.tasks.config import TaskConfig, TaskSettings

ROOT = Path(__file__).resolve().parent.parent
HAUSRUF = str(ROOT / ".venv" / "bin" / "hausruf")


def clean_env(**values: str) -> dict[str, str]:
    """The test's environment without HAUSRUF_*/TWILIO_* settings, plus values; no .env file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HAUSRUF_", "TWILIO_"))}
    env["HAUSRUF_ENV_FILE"] = "/nonexistent"
    env.update(values)
    return env


@pytest.mark.parametrize("given, level", [("warning", "WARNING"), ("Info", "INFO"), ("DEBUG", "DEBUG"), ("", "INFO")])
def test_the_log_level_is_taken_in_any_case(monkeypatch, given, level):
    monkeypatch.setenv("HAUSRUF_LOG_LEVEL", given)
    assert Settings.from_env().log_level == level


def test_an_unknown_log_level_says_which_ones_exist(monkeypatch):
    monkeypatch.setenv("HAUSRUF_LOG_LEVEL", "verbose")
    with pytest.raises(ValueError, match="HAUSRUF_LOG_LEVEL='verbose': not allowed; allowed: DEBUG, INFO"):
        Settings.from_env()


BAD = {
    "HAUSRUF_TIMEZONE": ("Europe/Berlín", "unknown time zone (did you mean 'Europe/Berlin'?); allowed: an IANA "
                                          "time zone such as Europe/Berlin"),
    "HAUSRUF_HOLIDAYS": ("DE-XX", "unknown state 'XX' of DE; allowed: DE-BB, DE-BE, DE-BW"),
    "HAUSRUF_OFFER_MINUTES": ("abc", "not a number; allowed: a number of at least 1"),
    "HAUSRUF_STAFF_NUMBER": ("hello", "not a phone number; allowed: a dialable number such as +49 271 123456"),
    "HAUSRUF_PHONE_NUMBER": ("0271", "not a phone number"),
    "HAUSRUF_PUBLIC_URL": ("hotline.example.org", "not a URL with a host; allowed: https://host or http://host"),
    "HAUSRUF_DATABASE_URL": ("mysql://db/hausruf", "unsupported database 'mysql'; allowed: sqlite:///"),
    "HAUSRUF_QUEUE_URL": ("amqp://rabbit", "not a queue URL; allowed: sqlite:///path/to/huey.sqlite3 or redis://"),
    "HAUSRUF_WORKERS": ("two", "not a whole number; allowed: a whole number from 1 to 64"),
    "HAUSRUF_THREADS": ("0", "out of range; allowed: a whole number from 1 to 1000"),
    "HAUSRUF_DB_TIMEOUT": ("inf", "not a number"),
    "HAUSRUF_SPEECH": ("maybe", "not on or off; allowed: on, 1, true, yes or off, 0, false, no"),
    "HAUSRUF_SMS_MAX_ATTEMPTS": ("-1", "out of range"),
}


def test_every_bad_value_is_reported_at_once_naming_variable_value_and_what_is_allowed():
    env = clean_env(**{name: value for name, (value, _) in BAD.items()})
    _, problems = load_settings(env)
    shown = {p.env: str(p) for p in problems}
    assert sorted(shown) == sorted(BAD)
    for name, (value, allowed) in BAD.items():
        assert shown[name].startswith(f"{name}={value!r}: "), shown[name]
        assert allowed in shown[name], shown[name]


def test_from_env_raises_one_error_listing_every_problem(monkeypatch):
    monkeypatch.setenv("HAUSRUF_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("HAUSRUF_EXPIRE_HOURS", "soon")
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    assert [p.env for p in raised.value.problems] == ["HAUSRUF_EXPIRE_HOURS", "HAUSRUF_TIMEZONE"]


def test_good_values_are_normalised():
    env = clean_env(HAUSRUF_STAFF_NUMBER="0271 23456780", HAUSRUF_HOLIDAYS="de-by",
                    HAUSRUF_PUBLIC_URL="https://hotline.example.org/", HAUSRUF_SPEECH="OFF",
                    HAUSRUF_OFFER_MINUTES="12.5", HAUSRUF_DATA_DIR="/srv/hausruf")
    settings, problems = load_settings(env)
    assert problems == []
    assert settings.staff_number == "+4927123456780"
    assert settings.holiday_region == "DE-BY"
    assert settings.public_url == "https://hotline.example.org"
    assert settings.speech_enabled is False
    assert settings.database_url == "sqlite:////srv/hausruf/hausruf.sqlite3"  # defaults follow the data folder
    assert TaskConfig.for_settings(settings).offer_after.total_seconds() == 750


def test_the_flow_must_exist_for_the_default_language(tmp_path):
    settings, _ = load_settings(clean_env(HAUSRUF_FLOW="hotlinee"))
    assert [str(p) for p in startup_problems(settings, clean_env(HAUSRUF_FLOW="hotlinee"))] == [
        "HAUSRUF_FLOW='hotlinee': no flow of that name in language 'de' (did you mean 'hotline'?); allowed: hotline"]
    english, _ = load_settings(clean_env(HAUSRUF_LANGUAGE="fr"))
    assert "no flow of that name in language 'fr'" in str(startup_problems(english, clean_env())[0])


def test_a_broken_flow_file_still_counts_as_its_flow(tmp_path):
    (tmp_path / "hotline.yaml").write_text("version: 1\nname: hotline\nlanguage: de\nnodes: [\n", encoding="utf-8")
    env = clean_env(HAUSRUF_FLOWS_DIR=str(tmp_path))
    settings, _ = load_settings(env)
    assert startup_problems(settings, env) == []  # the server serves the stored revision meanwhile


def test_config_masks_secrets_and_shows_every_setting(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "s3cr3t-token")
    monkeypatch.setenv("HAUSRUF_METRICS_TOKEN", "metrics-s3cr3t")
    rows = dict((env, shown) for env, shown, _ in effective_settings(Settings.from_env()))
    assert rows["TWILIO_AUTH_TOKEN"] == "***" and rows["HAUSRUF_METRICS_TOKEN"] == "***"
    assert rows["HAUSRUF_OFFER_MINUTES"] == "30"  # groups of subsystems are listed too
    assert "s3cr3t" not in repr(rows)


def test_a_secret_in_a_problem_is_masked():
    _, problems = load_settings(clean_env(HAUSRUF_WORKERS="x", TWILIO_AUTH_TOKEN="t"))
    assert "t" == Settings.from_env(twilio_auth_token="t").twilio_auth_token
    assert all("TWILIO" not in str(p) for p in problems)


def test_task_settings_are_read_through_the_registry(monkeypatch):
    monkeypatch.setenv("HAUSRUF_EXPIRE_HOURS", "abc")
    with pytest.raises(SettingsError, match="HAUSRUF_EXPIRE_HOURS='abc': not a number"):
        TaskConfig.from_env()
    monkeypatch.setenv("HAUSRUF_EXPIRE_HOURS", "2")
    assert TaskConfig.from_env().expire_after.total_seconds() == 7200
    assert TaskSettings().offer_minutes == 30


def run_timed(args, env, cwd) -> tuple[subprocess.CompletedProcess, float]:
    """Run a command; also the CPU seconds it used (a fair measure on a machine shared by many tests)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


STOPPERS = {"HAUSRUF_TIMEZONE": "Europe/Berlín", "HAUSRUF_FLOW": "hotlinee", "HAUSRUF_STAFF_NUMBER": "hello"}


@pytest.mark.parametrize("command, variables", [
    (["serve", "--port", "0"], STOPPERS),
    (["worker"], {"HAUSRUF_FLOW": "hotlinee"}),
    (["demo", "--port", "0"], {"HAUSRUF_STAFF_NUMBER": "hello"}),
])
def test_serve_worker_and_demo_refuse_to_start_on_a_bad_setting(tmp_path, command, variables):
    env = clean_env(HAUSRUF_DATA_DIR=str(tmp_path), **variables)
    done, cpu_seconds = run_timed([HAUSRUF, *command], env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert cpu_seconds < 6  # within seconds: nothing is started before the settings are checked
    for variable, value in variables.items():
        assert f"{variable}={value!r}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "hausruf.sqlite3").exists()  # refused before touching the database


def test_config_command_prints_settings_and_problems(tmp_path):
    env = clean_env(HAUSRUF_DATA_DIR=str(tmp_path), HAUSRUF_HOLIDAYS="DE-XX", TWILIO_AUTH_TOKEN="tok3n")
    done = subprocess.run([HAUSRUF, "config"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "TWILIO_AUTH_TOKEN=***" in done.stdout and "tok3n" not in done.stdout + done.stderr
    assert "HAUSRUF_HOLIDAYS='DE-XX': unknown state 'XX' of DE" in done.stderr


def test_env_file_is_read_before_the_server_options(tmp_path):
    (tmp_path / ".env").write_text("HAUSRUF_WORKERS=3\nHAUSRUF_THREADS=7\n", encoding="utf-8")
    code = ("from ivr.cli import main\nimport ivr.web.server as s\n"
            "s.serve = lambda h, p, w, t, settings: print(s.server_options(h, p, w, t, settings)['workers'],"
            " s.server_options(h, p, w, t, settings)['threads'])\nmain(['serve'])")
    env = clean_env(HAUSRUF_DATA_DIR=str(tmp_path))
    del env["HAUSRUF_ENV_FILE"]
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=30)
    assert done.stdout.split() == ["3", "7"], done.stderr


def test_bad_settings_in_any_command_are_a_message_not_a_traceback(tmp_path):
    env = clean_env(HAUSRUF_DATA_DIR=str(tmp_path), HAUSRUF_DB_TIMEOUT="soon")
    done = subprocess.run([HAUSRUF, "calls"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "HAUSRUF_DB_TIMEOUT='soon': not a number" in done.stderr and "Traceback" not in done.stderr
