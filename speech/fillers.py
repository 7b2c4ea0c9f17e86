"""Filler words that give out-of-grammar speech somewhere to go other than the nearest menu word."""

from __future__ import annotations

import threading
import weakref

import numpy as np
import vosk

from speech.models import knows_word

# A grammar decoder must explain every sound with some grammar entry. Vosk's "[unk]" would be that
# catch-all, but the Korean model spells it <UNK> and its <UNK> absorbs little (measured: 10 of 23
# out-of-grammar words and noises still came out as menu words). A grammar also holding ~100 short
# common syllables lets foreign speech decode as syllables; a real menu word still wins, because each
# grammar entry costs the same and one whole word is cheaper than several syllables.
# Measured (docs/performance.md, Speech): 0 fillers 23/44 false accepts, 30 fillers 2/44, 100 fillers 0/44
# with 16/25 menu words right, 397 fillers 0/44 but only 14/25 right.
FILLER_COUNT = 100

_HANGUL_FIRST, _HANGUL_LAST, _HANGUL_FINALS = 0xAC00, 0xD7A3, 28
_cache: "weakref.WeakKeyDictionary[vosk.Model, tuple[str, ...]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _open_hangul_syllables() -> list[str]:
    """Korean syllables without a final consonant (consonant + vowel), the most frequent shape."""
    return [chr(code) for code in range(_HANGUL_FIRST, _HANGUL_LAST + 1, _HANGUL_FINALS)]


def _latin_letters() -> list[str]:
    """Single letters, the usual short words of Latin-script vocabularies."""
    return list("abcdefghijklmnopqrstuvwxyzäöü")


def model_fillers(model: vosk.Model, count: int = FILLER_COUNT) -> tuple[str, ...]:
    """Up to `count` short words the model knows, spread evenly over its syllable inventory; cached per model."""
    with _lock:
        cached = _cache.get(model)
    if cached is None or len(cached) != count:
        known = [word for word in _open_hangul_syllables() + _latin_letters() if knows_word(model, word)]
        picks = np.linspace(0, len(known) - 1, num=min(count, len(known))).round().astype(int) if known else []
        cached = tuple(dict.fromkeys(known[i] for i in picks))
        with _lock:
            _cache[model] = cached
    return cached
