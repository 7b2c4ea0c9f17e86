"""Settings from the environment: log levels in any case, a clear error for one that is not."""

from __future__ import annotations

import pytest

from ivr.config import Settings


@pytest.mark.parametrize("given, level", [("warning", "WARNING"), ("Info", "INFO"), ("DEBUG", "DEBUG"), ("", "INFO")])
def test_the_log_level_is_taken_in_any_case(monkeypatch, given, level):
    monkeypatch.setenv("HAUSRUF_LOG_LEVEL", given)
    assert Settings.from_env().log_level == level


def test_an_unknown_log_level_says_which_ones_exist(monkeypatch):
    monkeypatch.setenv("HAUSRUF_LOG_LEVEL", "verbose")
    with pytest.raises(ValueError, match="HAUSRUF_LOG_LEVEL=verbose is not a log level; use one of DEBUG, INFO"):
        Settings.from_env()
