"""Speech models at server start: load them once before the workers fork, and check each obeys a grammar."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import vosk

from speech.models import UNKNOWN_TOKENS, knows_word, phrase_words, preload, unknown_token

log = logging.getLogger("hausruf.speech")

# A short sentence per language, spoken by espeak-ng at start, and a grammar word that is not in it.
# A model that obeys the grammar can only answer with the grammar word or its unknown token; a model
# whose vocabulary is compiled into its graph (HCLG.fst, most big Vosk models) decodes the sentence.
TEST_PHRASES = {
    "de": ("guten morgen wie geht es ihnen heute", "einkauf"),
    "en": ("good morning how are you today", "shopping"),
    "ko": ("오늘 날씨가 정말 좋습니다", "장보기"),
}
GRAMMAR = "grammar"  # the model decodes only the menu's words (runtime grammar)
FREE = "free"  # the model ignores grammars: the recogniser matches its free text against the menu

# language -> GRAMMAR or FREE, found at start (inherited by forked workers) or on first use.
_modes: dict[str, str] = {}


def grammar_mode(model: vosk.Model, language: str, path: str | Path | None = None) -> str:
    """GRAMMAR when the model keeps to a grammar, FREE when a test phrase outside it decodes freely."""
    if language in _modes:
        return _modes[language]
    mode = _probe(model, language, Path(path) if path else None)
    _modes[language] = mode
    if mode == FREE:
        log.warning("speech model for '%s' ignores run-time grammars (its vocabulary is compiled in): menu "
                    "words are matched in its free transcript instead; a small model decides menus better",
                    language)
    else:
        log.info("speech model for '%s' decodes menus with a run-time grammar", language)
    return mode


def _probe(model: vosk.Model, language: str, path: Path | None) -> str:
    phrase, word = TEST_PHRASES.get(language, TEST_PHRASES["en"])
    try:
        pcm = _speak(phrase, language)
    except (OSError, subprocess.CalledProcessError):
        # No espeak-ng: a model without the runtime-graph files (graph/HCLr.fst, Gr.fst) cannot take a
        # grammar (Vosk's recognizer.cc falls back to the static HCLG.fst and logs that it ignores it).
        return GRAMMAR if path is None or (path / "graph" / "HCLr.fst").is_file() else FREE
    return FREE if decodes_freely(model, pcm, word) else GRAMMAR


def decodes_freely(model: vosk.Model, pcm_8khz: bytes, grammar_word: str, make_recognizer=vosk.KaldiRecognizer) -> bool:
    """True when audio decoded against a one-word grammar yields words outside that grammar."""
    grammar = [grammar_word] if knows_word(model, grammar_word) else []
    allowed = {*grammar, *UNKNOWN_TOKENS}  # Vosk writes an unknown word as "[unk]" whatever the model calls it
    unknown = unknown_token(model)
    if unknown:
        grammar.append(unknown)
    recognizer = make_recognizer(model, 8000, json.dumps(grammar or ["[unk]"], ensure_ascii=False))
    recognizer.AcceptWaveform(pcm_8khz)
    text = json.loads(recognizer.FinalResult()).get("text", "")
    return any(word not in allowed for word in phrase_words(text))


def _speak(text: str, language: str) -> bytes:
    """espeak-ng's voice for the language, as 16-bit PCM at 8 kHz."""
    from speech.simulate import synthesize_pcm

    samples, _ = synthesize_pcm(text, language, 150)
    return samples.tobytes()


def preload_for_server(settings=None) -> dict[str, str]:
    """Load every configured model in the server's parent process and find its grammar mode."""
    from ivr.config import Settings
    from speech.models import ModelRegistry

    settings = settings or Settings.from_env()
    if not settings.speech_enabled or not settings.vosk_models:
        return {}
    if not settings.speech_preload:
        return {}  # each worker loads its own copy on first use (the "before" of docs/performance.md)
    loaded = preload(settings.vosk_models)
    registry = ModelRegistry(settings.vosk_models)
    for language in loaded:
        grammar_mode(registry.get(language), language, registry.path(language))
    return dict(_modes)


def status(configured: dict[str, str]) -> dict[str, str]:
    """For /healthz: each configured language whose model was checked, and whether it keeps to a grammar."""
    wanted = {language.lower() for language in configured}
    return {language: ("grammar" if mode == GRAMMAR else "ignores grammar: matching free text")
            for language, mode in sorted(_modes.items()) if language in wanted}
