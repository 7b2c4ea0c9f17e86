"""Matching what a caller said against a menu's words, forgiving case, punctuation and umlaut spelling."""

from __future__ import annotations

import re
import unicodedata

# Spoken "repeat" works in every menu, like the repeat key; per flow language.
REPEAT_WORDS = {
    "de": ("wiederholen", "nochmal", "noch einmal"),
    "en": ("repeat", "again"),
    "ko": ("다시",),
    "tr": ("tekrar",),
}

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def normalise(text: str) -> str:
    """Lower case, umlauts spelled out, punctuation dropped, single spaces."""
    text = unicodedata.normalize("NFC", text).lower().translate(_UMLAUTS)
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def repeat_words(language: str) -> tuple[str, ...]:
    """The spoken forms of 'repeat' in a flow language (none for an unknown language)."""
    return REPEAT_WORDS.get(language, ())
