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


# -- fillers per menu: none may sound like a menu word ------------------------------------------------
# Measured on the evaluation set (issue 16): with fillers spread evenly over all syllables, "사" and "삼"
# decoded as the filler "하"/"허" and "영" as "녀", so the one-syllable menu words were rarely picked.
# A filler whose onset and vowel both fall in the same sound class as those of a menu syllable is left
# out; the classes follow where Korean sounds are made (a listener's, and this model's, confusions).
_ONSET_CLASSES = (
    {0, 1, 15},  # ㄱ ㄲ ㅋ velar stops
    {3, 4, 16},  # ㄷ ㄸ ㅌ alveolar stops
    {6, 7, 8, 17},  # ㅁ ㅂ ㅃ ㅍ labials
    {9, 10, 12, 13, 14, 18},  # ㅅ ㅆ ㅈ ㅉ ㅊ ㅎ sibilants, affricates and the breathy h
    {2, 5, 11, 18},  # ㄴ ㄹ, no consonant (ㅇ) and the weak ㅎ: 영 is heard as 녀
)
_VOWEL_CLASSES = (
    {0, 2, 9, 4, 6, 14},  # ㅏ ㅑ ㅘ and ㅓ ㅕ ㅝ: 삼 is heard as 허
    {1, 3, 5, 7, 10, 11, 15},  # ㅐ ㅒ ㅔ ㅖ ㅙ ㅚ ㅞ
    {8, 12, 13, 17, 18},  # ㅗ ㅛ ㅜ ㅠ ㅡ
    {20, 16, 19, 18},  # ㅣ ㅟ ㅢ (and ㅡ)
    {4, 6, 14, 8, 12},  # ㅓ ㅕ ㅝ next to ㅗ ㅛ
)


def _jamo(syllable: str) -> tuple[int, int, int] | None:
    """(onset, vowel, final) indices of a Hangul syllable, None for anything else."""
    code = ord(syllable) - _HANGUL_FIRST
    if not 0 <= code <= _HANGUL_LAST - _HANGUL_FIRST:
        return None
    return code // (21 * _HANGUL_FINALS), code // _HANGUL_FINALS % 21, code % _HANGUL_FINALS


def _close(a: int, b: int, classes) -> bool:
    return a == b or any(a in group and b in group for group in classes)


def sounds_like(filler: str, word: str) -> bool:
    """True when a one-syllable filler is close in sound to any syllable of a word (Hangul), or equal to it."""
    if filler == word:
        return True
    mine = _jamo(filler) if len(filler) == 1 else None
    if mine is None:
        return False
    for syllable in word:
        theirs = _jamo(syllable)
        if theirs and _close(mine[0], theirs[0], _ONSET_CLASSES) and _close(mine[1], theirs[1], _VOWEL_CLASSES):
            return True
    return False


def menu_fillers(model: vosk.Model, phrases, count: int = FILLER_COUNT) -> tuple[str, ...]:
    """The model's fillers without those that sound like a word of the menu's phrases."""
    words = [word for phrase in phrases for word in phrase.lower().split()]
    return tuple(f for f in model_fillers(model, count) if not any(sounds_like(f, word) for word in words))
