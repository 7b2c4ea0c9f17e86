"""Personal prompts: a caller's name is spoken by our own voice, never by the provider's text-to-speech.

A prompt that names a tenant ("Guten Tag, Frau Becker. Hier ist ...") is split at the directory's
personal values (salutations, first and last names). The static parts are ordinary prompt files,
rendered once and shared by every caller; only the personal fragment is rendered per person, locally,
and the three are joined into one file. Fragments of the tenants in the directory are rendered ahead
of time (prerender), so joining a sentence at a call's first use is quick; PromptUrls waits for it at
most WAIT_SECONDS, and meanwhile plays the neutral text (the sentence without the name).

Files live under <prompts>/personal/<language>/<key of the fragment>/: their names are keys made with
the server's secret, so neither a URL nor a file name reveals whom they speak, and `hausruf person
erase` removes a person's folder by their names.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path

from ivr.privacy.keys import server_secret, url_key

log = logging.getLogger("hausruf.prompts")
FOLDER = "personal"
FRAGMENT = "fragment.wav"
WAIT_SECONDS = 1.0  # a caller hears the neutral text rather than wait longer for their name
REFRESH_SECONDS = 60.0  # how soon an edited name is recognised as personal
VERSION_SECONDS = 1.0  # how soon a new tenant is: a cheap count of the directory, at most once a second
FRESH_SECONDS = 0.1  # before text goes to the provider's <Say>: one count per webhook, not one per segment
MIN_LENGTH = 3  # "Al" is too short to be told from ordinary words


def neutral_text(text: str, values: list[str]) -> str:
    """The sentence without the personal values: "Guten Tag, Frau Becker. Hier" -> "Guten Tag. Hier"."""
    for value in values:
        text = text.replace(value, "")
    text = re.sub(r"\s*,\s*([.!?:;,])", r"\1", text)  # "Tag, ." -> "Tag."
    text = re.sub(r"\s+([.!?:;,])", r"\1", text)
    text = re.sub(r"([,:;])(\s*[,:;])+", r"\1", text)
    return " ".join(text.split()).strip(" ,;:")


class PersonalPrompts:
    """Finds the personal values in a prompt and renders it locally under keyed names."""

    def __init__(self, renderer, prompts_dir: Path, secret: bytes, load_values=None, version=None):
        self.renderer = renderer
        self.root = Path(prompts_dir) / FOLDER
        self.secret = secret
        self.load_values = load_values  # () -> [(value, language, render ahead?)] from the directory
        self._pattern: re.Pattern | None = None
        self._ahead: list[tuple[str, str]] = []
        self.version = version  # () -> something that changes when tenants are added or removed
        self._version = None
        self._version_at = -VERSION_SECONDS
        self._loaded_at = -REFRESH_SECONDS
        self._lock = threading.Lock()

    # -- which texts are personal ----------------------------------------------------------------

    def values_in(self, text: str, fresh: bool = False) -> list[str]:
        """The personal values a text contains, in order (empty: not personal); fresh: ask the directory now."""
        pattern = self._current_pattern(fresh)
        return pattern.findall(text) if pattern is not None else []

    def _current_pattern(self, fresh: bool = False) -> re.Pattern | None:
        if self.load_values is None:
            return self._pattern
        now = time.monotonic()
        throttle = FRESH_SECONDS if fresh else VERSION_SECONDS
        version_due = self.version is not None and now - self._version_at >= throttle
        if now - self._loaded_at < REFRESH_SECONDS and not version_due:
            return self._pattern
        with self._lock:
            try:
                if version_due:
                    self._version_at = time.monotonic()
                    version = self.version()
                    if version != self._version:
                        self._version, self._loaded_at = version, -REFRESH_SECONDS
                if time.monotonic() - self._loaded_at >= REFRESH_SECONDS:
                    self._loaded_at = time.monotonic()
                    self.set_values(self.load_values())
            except Exception:  # noqa: BLE001 - the database may be down; keep the last names
                log.warning("could not load the directory's names; using the last ones", exc_info=True)
        return self._pattern

    def set_values(self, entries) -> None:
        """Use these (value, language, render ahead?) entries; longest first, so "Frau Becker" beats "Becker"."""
        entries = [(value.strip(), language, ahead) for value, language, ahead in entries
                   if value and len(value.strip()) >= MIN_LENGTH]
        words = sorted({value for value, _, _ in entries}, key=len, reverse=True)
        self._ahead = sorted({(value, language) for value, language, ahead in entries if ahead})
        self._pattern = (re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)")
                         if words else None)

    # -- where the audio lives -------------------------------------------------------------------

    def folder(self, language: str, value: str) -> Path:
        """The folder of everything rendered for one personal value."""
        return self.root / language / url_key(self.secret, "personal", language, " ".join(value.split()))

    def path_for(self, text: str, language: str, values: list[str]) -> Path:
        """The joined file of a personal sentence."""
        return self.folder(language, values[0]) / f"{url_key(self.secret, 'sentence', language, text)}.wav"

    # -- rendering -------------------------------------------------------------------------------

    def render_fragment(self, value: str, language: str) -> Path:
        """The per-person part, rendered locally once."""
        target = self.folder(language, value) / FRAGMENT
        if not target.is_file():
            _synthesize(self.renderer, value, language, target)
        return target

    def render(self, text: str, language: str, values: list[str]) -> Path:
        """Static parts from the shared cache, fragments per person, joined into one keyed file."""
        from speech.audio import read_wav, write_wav
        import numpy as np

        target = self.path_for(text, language, values)
        if target.is_file():
            return target
        pieces, rate = [], 8000
        for part in _split(text, values):
            if part in values:
                path = self.render_fragment(part, language)
            elif re.search(r"\w", part):
                path, _ = self.renderer.render(part.strip(" ,"), language)
            else:
                continue
            samples, rate = read_wav(path)
            pieces.append(samples)
        write_wav(target, np.concatenate(pieces) if pieces else np.zeros(1, dtype=np.int16), rate)
        return target

    def prerender(self, languages) -> int:
        """Render the directory's salutations and first names ahead of time, in each tenant's language."""
        self._current_pattern()
        made = 0
        for value, language in list(self._ahead):
            language = language if language in languages else languages[0]
            if not (self.folder(language, value) / FRAGMENT).is_file():
                self.render_fragment(value, language)
                made += 1
        return made


def _split(text: str, values: list[str]) -> list[str]:
    """The text cut at its personal values: ["Guten Tag, ", "Frau Becker", ". Hier ist ..."]."""
    pattern = "(" + "|".join(re.escape(v) for v in sorted(set(values), key=len, reverse=True)) + ")"
    return [part for part in re.split(pattern, text) if part]


def _synthesize(renderer, text: str, language: str, target: Path) -> Path:
    import tempfile

    from speech.audio import convert_to_telephone_wav
    from speech.tts import synthesize

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".render-") as folder:
        raw = synthesize(text, renderer.voice_for(language), renderer.rate, Path(folder) / "espeak.wav")
        return convert_to_telephone_wav(raw, target)


def files_for_texts(settings, texts: list[str]) -> list[Path]:
    """Every rendered file, in any language, that speaks one of these personal values."""
    root = Path(settings.prompts_dir) / FOLDER
    if not root.is_dir() or not texts:
        return []
    secret = server_secret(settings)
    found = []
    for language_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for text in texts:
            folder = language_dir / url_key(secret, "personal", language_dir.name, " ".join(text.split()))
            if folder.is_dir():
                found += sorted(p for p in folder.iterdir() if p.is_file())
    return found
