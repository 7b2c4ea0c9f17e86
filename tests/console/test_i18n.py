"""Every German text of the console has its English translation (English is the second UI language)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ivr.console import calls, directory, housing, overview, simulator, tasks
from ivr.console.i18n import EN, translate

CONSOLE = Path(__file__).resolve().parents[2] / "ivr" / "console"


def console_texts() -> set[str]:
    """The first argument of every _() call in the console's code and templates, and the label tables."""
    texts: set[str] = set()
    for path in CONSOLE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                texts.add(node.args[0].value)
    for path in (CONSOLE / "templates").rglob("*.html"):
        texts.update(m.group(2) for m in re.finditer(r"_\(\s*([\"'])(.*?)\1", path.read_text(encoding="utf-8"), re.S))
    for table in (tasks.STATE_LABELS, tasks.SMS_LABELS, directory.KIND_LABELS, directory.FIELD_LABELS,
                  calls.SERVICE_LABELS, calls.EVENT_LABELS, simulator.AUDIENCES, simulator.DIAL_LABELS,
                  housing.KIND_NAMES, housing.FEATURE_NAMES, housing.RENT_NAMES, housing.REPORT_NAMES,
                  housing.DIMENSION_NAMES, dict(enumerate(housing.MONTH_NAMES))):
        texts.update(table.values())
    texts.update(label for _limit, label in overview.AGE_BUCKETS)
    return texts


def test_every_console_text_has_an_english_translation():
    texts = console_texts()
    assert len(texts) > 250
    missing = sorted(t for t in texts if t not in EN)
    assert missing == []


def test_placeholders_match_between_german_and_english():
    for german, english in EN.items():
        assert sorted(re.findall(r"%\((\w+)\)s", german)) == sorted(re.findall(r"%\((\w+)\)s", english)), german
    assert translate("Aufgabe #%(n)s", "en", n=7) == "Task #7"
    assert translate("Aufgabe #%(n)s", "de", n=7) == "Aufgabe #7"
