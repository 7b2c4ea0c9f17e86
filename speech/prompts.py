"""Prompt audio: flow texts rendered to 8 kHz telephone WAV files, cached by a hash, overridable by recordings."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ivr.flows.listening import SPEAKING_RATE
from speech.audio import convert_to_telephone_wav
from speech.tts import synthesize

DEFAULT_RATE = SPEAKING_RATE  # the rate the checker's listening-time estimate assumes


class PromptRenderer:
    """Renders (text, language) to a cached 8 kHz mono WAV; a recorded file in overrides_dir wins."""

    def __init__(
        self,
        cache_dir: str | os.PathLike,
        overrides_dir: str | os.PathLike | None = None,
        rate: int = DEFAULT_RATE,
        voices: dict[str, str] | None = None,
    ):
        self.cache_dir = Path(cache_dir)
        self.overrides_dir = Path(overrides_dir) if overrides_dir else None
        self.rate = rate
        self.voices = dict(voices or {})

    def voice_for(self, language: str) -> str:
        """The espeak-ng voice of a language; espeak accepts language codes such as "de" or "ko" as voices."""
        return self.voices.get(language, language)

    def prompt_hash(self, text: str, language: str) -> str:
        """Stable name of a prompt: everything that changes the sound is in the hash."""
        key = json.dumps([text, language, self.voice_for(language), self.rate], ensure_ascii=False)
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]

    def override_name(self, text: str, language: str) -> str:
        """Where staff drop a recording for this prompt, relative to overrides_dir."""
        return f"{language}/{self.prompt_hash(text, language)}.wav"

    def path_for(self, text: str, language: str) -> Path:
        """The file a caller hears: the converted recording if staff dropped one, else the synthetic one."""
        name = self.prompt_hash(text, language)
        if self.override_path(text, language) is not None:
            return self.cache_dir / language / f"{name}.recorded.wav"
        return self.cache_dir / language / f"{name}.wav"

    def render(self, text: str, language: str) -> tuple[Path, bool]:
        """Make sure the prompt's file exists; returns (path, whether it was made now)."""
        target = self.path_for(text, language)
        override = self.override_path(text, language)
        if override is not None:
            # Converted once; again only when staff replace the recording.
            if target.is_file() and target.stat().st_mtime >= override.stat().st_mtime:
                return target, False
            return convert_to_telephone_wav(override, target), True
        if target.is_file():
            return target, False
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".render-") as folder:
            raw = synthesize(text, self.voice_for(language), self.rate, Path(folder) / "espeak.wav")
            convert_to_telephone_wav(raw, target)  # writes atomically: no half file is ever served
        return target, True

    def render_all(self, items: Iterable[tuple[str, str]]) -> tuple[int, int]:
        """Render (text, language) pairs; returns (rendered now, already cached)."""
        rendered = cached = 0
        for text, language in dict.fromkeys(items):
            _, made = self.render(text, language)
            rendered += made
            cached += not made
        return rendered, cached

    def override_path(self, text: str, language: str) -> Path | None:
        """The recording staff dropped for this prompt, if any."""
        if self.overrides_dir is None:
            return None
        candidate = self.overrides_dir / self.override_name(text, language)
        return candidate if candidate.is_file() else None


def list_prompts(renderer: PromptRenderer, items: Iterable[tuple[str, str]]) -> list[tuple[str, str, str, bool]]:
    """For staff: (language, text, override file name, whether a recording is in place) per prompt."""
    return sorted(
        (language, text, renderer.override_name(text, language), renderer.override_path(text, language) is not None)
        for text, language in dict.fromkeys(items)
    )
