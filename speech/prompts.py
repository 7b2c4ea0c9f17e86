"""Prompt audio: flow texts rendered to 8 kHz telephone WAV files, cached by a hash, overridable by recordings."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from ivr.flows.listening import SPEAKING_RATE
from ivr.flows.model import Flow
from speech.flowtexts import RECORDING_SUFFIX, NamedPrompt, named_prompts, recordable, recordings_by_text
from speech.audio import convert_to_telephone_wav
from speech.tts import synthesize

DEFAULT_RATE = SPEAKING_RATE  # the rate the checker's listening-time estimate assumes


class Recordings:
    """Which prompt text a human recording speaks now: read from the flow files beside `prompts/`.

    Recordings are named by node and prompt (`prompts/de/main_menu.wav`), so the renderer, which only
    sees texts, asks the current flows which prompt has this text. The flows and the folder are read
    again when a file changed (checked at most every CHECK_EVERY_SECONDS).
    """

    CHECK_EVERY_SECONDS = 2.0

    def __init__(self, flows_dir: Path):
        self.flows_dir = Path(flows_dir)
        self._stamp: tuple = ()
        self._checked = float("-inf")
        self._by_text: dict[tuple[str, str], Path] = {}
        self._lock = threading.Lock()

    def get(self, text: str, language: str) -> Path | None:
        """The recording for this prompt text, if staff made one."""
        now = time.monotonic()
        if now - self._checked >= self.CHECK_EVERY_SECONDS:
            with self._lock:
                self._checked = now
                stamp = self._files_stamp()
                if stamp != self._stamp:
                    self._stamp, self._by_text = stamp, self._read()
        found = self._by_text.get((text, language))
        return found if found is not None and found.is_file() else None

    def _files_stamp(self) -> tuple:
        if not self.flows_dir.is_dir():
            return ()
        watched = [*self.flows_dir.glob("*.yaml"), *self.flows_dir.glob("*.yml")]
        prompts = self.flows_dir / "prompts"
        if prompts.is_dir():  # a language folder's time changes when a recording is added or removed
            watched += [prompts, *(p for p in prompts.iterdir() if p.is_dir())]
        return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in watched))

    def _read(self) -> dict[tuple[str, str], Path]:
        from ivr.flows.loader import flow_files, read_flow_file

        if not self.flows_dir.is_dir():
            return {}
        flows = []
        for path in flow_files(self.flows_dir):
            flow, _ = read_flow_file(path)
            if flow is not None:
                flows.append((flow, str(path)))
        return recordings_by_text(flows)


class PromptRenderer:
    """Renders (text, language) to a cached 8 kHz mono WAV; a human recording of that prompt wins.

    Recordings live in overrides_dir (`flows/prompts/<language>/<node>.wav`, see speech.flowtexts);
    the flow files that name them are read from overrides_dir's parent, the flows folder.
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike,
        overrides_dir: str | os.PathLike | None = None,
        rate: int = DEFAULT_RATE,
        voices: dict[str, str] | None = None,
    ):
        self.cache_dir = Path(cache_dir)
        self.overrides_dir = Path(overrides_dir) if overrides_dir else None
        self.recordings = Recordings(self.overrides_dir.parent) if self.overrides_dir else None
        self.rate = rate
        self.voices = dict(voices or {})

    def voice_for(self, language: str) -> str:
        """The espeak-ng voice of a language; espeak accepts language codes such as "de" or "ko" as voices."""
        return self.voices.get(language, language)

    def prompt_hash(self, text: str, language: str) -> str:
        """Stable name of a prompt: everything that changes the sound is in the hash."""
        key = json.dumps([text, language, self.voice_for(language), self.rate], ensure_ascii=False)
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]

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
        """The recording staff made for the prompt that now has this text, if any."""
        return self.recordings.get(text, language) if self.recordings else None


def list_prompts(overrides_dir: Path, flows: Iterable[Flow]) -> list[tuple[Path, bool, NamedPrompt]]:
    """For staff: (recording file, whether it is there, prompt) for every prompt a person can record."""
    listed = []
    for flow in flows:
        for prompt in recordable(named_prompts(flow)):
            audio = overrides_dir / flow.language / f"{prompt.name}{RECORDING_SUFFIX}"
            listed.append((audio, audio.is_file(), prompt))
    return listed
