"""The console's words: German is the source text, English the second language (EN below).

A text without an English entry is shown in German, so a missing translation never breaks a page.
"""

from __future__ import annotations

LANGUAGES = ("de", "en")


def translate(text: str, lang: str, **values) -> str:
    """text in lang, with %(name)s placeholders filled from values."""
    result = EN.get(text, text) if lang == "en" else text
    return result % values if values else result


EN: dict[str, str] = {}
