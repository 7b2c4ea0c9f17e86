"""Vosk models: one per language per machine (preloaded before the server forks), plus what we read from a model's files."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import vosk

# Vosk logs every decoder step at level 0; -1 keeps only its errors out of our logs.
vosk.SetLogLevel(-1)

DEFAULT_MODEL_RATE = 16000  # Kaldi's default --sample-frequency when mfcc.conf does not set it
UNKNOWN_TOKENS = ("[unk]", "<UNK>", "<unk>")  # English models spell it [unk]; the Korean one <UNK>


class MissingModelError(LookupError):
    """No Vosk model is configured for a language."""


# Models loaded by preload(), by folder, shared by every registry of this process. Loaded in the server's
# parent process before it forks its workers, a model's ~0.5-2 GB of pages are shared copy-on-write by
# all workers (decoding only reads them), instead of each worker reading its own copy on first use.
_PRELOADED: dict[str, vosk.Model] = {}


def preload(paths: dict[str, str]) -> list[str]:
    """Load every configured model now, in this process; the languages whose folder exists."""
    loaded = []
    for language, path in sorted(paths.items()):
        if Path(path).is_dir() and str(path) not in _PRELOADED:
            _PRELOADED[str(path)] = vosk.Model(str(path))
        if str(path) in _PRELOADED:
            loaded.append(language.lower())
    return loaded


class ModelRegistry:
    """One vosk.Model per language per process, loaded on first use and shared by all calls."""

    def __init__(self, paths: dict[str, str]):
        self._paths = {language.lower(): str(path) for language, path in paths.items()}
        self._models: dict[str, vosk.Model] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages with a configured model path."""
        return tuple(sorted(self._paths))

    def path(self, language: str) -> Path:
        """The model folder for a language."""
        try:
            return Path(self._paths[language.lower()])
        except KeyError:
            raise MissingModelError(
                f"no Vosk model for language '{language}': set HAUSRUF_VOSK_MODEL_{language.upper()} "
                f"to a model folder (configured: {', '.join(self.languages) or 'none'})"
            ) from None

    def get(self, language: str) -> vosk.Model:
        """The shared model of a language; the first caller loads it (seconds), the others wait for it."""
        language = language.lower()
        path = self.path(language)
        with self._guard:
            lock = self._locks.setdefault(language, threading.Lock())
        with lock:  # one lock per language: loading Korean does not hold up German
            if language not in self._models and str(path) in _PRELOADED:
                self._models[language] = _PRELOADED[str(path)]
            if language not in self._models:
                if not path.is_dir():
                    raise MissingModelError(f"Vosk model folder for '{language}' does not exist: {path}")
                self._models[language] = vosk.Model(str(path))
            return self._models[language]

    def recognizer(self, language: str, phrases: list[str]):
        """A menu recogniser on the language's model: its grammar, or its free text if it ignores grammars."""
        from speech.recognizer import MenuRecognizer
        from speech.service import FREE, grammar_mode

        model = self.get(language)
        return MenuRecognizer(model, phrases, free_text=grammar_mode(model, language, self.path(language)) == FREE)

    def sample_rate(self, language: str) -> int:
        """The rate the model's features are computed at (conf/mfcc.conf)."""
        return model_sample_rate(self.path(language))


def model_sample_rate(path: str | Path) -> int:
    """--sample-frequency from a model's conf/mfcc.conf, 16000 when unset (the Korean model leaves it out)."""
    conf = Path(path) / "conf" / "mfcc.conf"
    text = conf.read_text(encoding="utf-8") if conf.is_file() else ""
    found = re.search(r"^--sample-frequency=(\d+(?:\.\d+)?)", text, re.MULTILINE)
    return int(float(found.group(1))) if found else DEFAULT_MODEL_RATE


def knows_word(model: vosk.Model, word: str) -> bool:
    """True when the word is in the model's vocabulary (vosk_model_find_word returns -1 otherwise)."""
    return model.vosk_model_find_word(word) != -1


def unknown_token(model: vosk.Model) -> str | None:
    """The model's spelling of the unknown word, if it has one."""
    return next((token for token in UNKNOWN_TOKENS if knows_word(model, token)), None)


def missing_words(model: vosk.Model, phrases) -> list[str]:
    """Words of the phrases that the model does not know, in first-seen order.

    Vosk drops such words from a grammar with only a log line (recognizer.cc, UpdateGrammarFst),
    so a keyword would silently never match; the flow checker reports them instead.
    """
    missing: list[str] = []
    for phrase in phrases:
        for word in phrase_words(phrase):
            if word not in missing and not knows_word(model, word):
                missing.append(word)
    return missing


def phrase_words(phrase: str) -> list[str]:
    """A phrase as the model's words: lower case (Vosk vocabularies are), split on white space."""
    return phrase.lower().split()
