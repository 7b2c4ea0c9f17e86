"""The numbers the demo flows' comments suggest for `hausruf call` are tenants of the demo directory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr.directory.phones import caller_number

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["hotline.yaml", "hotline.en.yaml"])
def test_the_number_to_try_is_a_tenant_of_the_demo_directory(name):
    comment = (ROOT / "flows" / name).read_text(encoding="utf-8").split("\nversion:")[0]
    suggested = re.search(r'hausruf call --from "([^"]+)"', comment).group(1)
    tenants = (ROOT / "data" / "demo" / "tenants.yaml").read_text(encoding="utf-8")
    known = {caller_number(n) for n in re.findall(r'"(\+49[\d ]+)"', tenants)}
    assert caller_number(suggested) in known
