"""The layers of docs/architecture.md hold: import-linter's contracts, and no Twilio outside its adapter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TWILIO = re.compile(r"import twilio|from twilio|api\.twilio\.com")


def test_the_import_contracts_are_kept():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "3 kept, 0 broken" in result.stdout


def test_nothing_outside_the_twilio_adapter_imports_twilio_or_names_its_api():
    adapter = ROOT / "ivr" / "telephony" / "twilio"
    found = [f"{path.relative_to(ROOT)}:{number}" for folder in ("ivr", "speech")
             for path in sorted((ROOT / folder).rglob("*.py")) if adapter not in path.parents
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if TWILIO.search(line)]
    assert found == []
