"""The console's screenshots in docs/ are the ones docs/screenshots.py makes, each 1280x800 and linked from README."""

from __future__ import annotations

import re
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_screenshot_is_made_by_the_script_sized_1280x800_and_linked_from_readme():
    script = (ROOT / "docs" / "screenshots.py").read_text(encoding="utf-8")
    made = set(re.findall(r'\("([a-z-]+)", "/', script)) | {"simulator-call"}
    files = {png.stem: png for png in (ROOT / "docs" / "screenshots").glob("*.png")}
    assert set(files) == made  # none left over from an older menu, none missing
    for png in files.values():
        header = png.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", header[16:24]) == (1280, 800), png.name
    linked = set(re.findall(r"\(docs/screenshots/([a-z-]+)\.png\)", (ROOT / "README.md").read_text(encoding="utf-8")))
    assert linked == set(files)
