"""The console's words: German is the source text, English the second language (EN below).

A text without an English entry is shown in German, so a missing translation never breaks a page.
"""

from __future__ import annotations

LANGUAGES = ("de", "en")


def translate(source: str, lang: str, /, **values) -> str:
    """The German source text in lang, with %(name)s placeholders filled from values."""
    result = EN.get(source, source) if lang == "en" else source
    return result % values if values else result


EN: dict[str, str] = {}
