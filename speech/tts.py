"""The one thread that talks to pyttsx3: espeak-ng synthesis, one utterance at a time."""

from __future__ import annotations

import contextlib
import io
import queue
import threading
from concurrent.futures import Future
from pathlib import Path


ATTEMPTS = 3


class SynthesisError(RuntimeError):
    """pyttsx3 produced no audio for a text."""


class SpeechWorker:
    """Runs every pyttsx3 call on one dedicated thread, fed by a queue."""

    # pyttsx3 is not thread-safe, its espeak driver initialises espeak once per process, and its
    # save_to_file keeps only the last text given before runAndWait (pyttsx3 2.99 drivers/espeak.py:
    # self._text_to_say is overwritten), so queued saves are lost. Hence one thread, one save per run.

    def __init__(self):
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def synthesize(self, text: str, voice: str, rate: int, target: Path) -> Path:
        """Speak text into a WAV file at `target` (espeak's own rate); blocks until it is written."""
        self._ensure_started()
        done: Future = Future()
        self._jobs.put((text, voice, rate, Path(target), done))
        return done.result()

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="hausruf-tts", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        import pyttsx3  # imported here so that only this thread ever touches it

        engine = pyttsx3.init("espeak")
        while True:
            text, voice, rate, target, done = self._jobs.get()
            if done.set_running_or_notify_cancel():
                try:
                    done.set_result(self._save(engine, text, voice, rate, target))
                except Exception as exc:  # the caller gets the error; the worker keeps serving
                    done.set_exception(exc)

    @staticmethod
    def _save(engine, text: str, voice: str, rate: int, target: Path) -> Path:
        engine.setProperty("voice", voice)
        engine.setProperty("rate", rate)
        # Now and then runAndWait returns without the file written (measured: 1 in 300 saves),
        # so each save is checked and retried.
        for _ in range(ATTEMPTS):
            target.unlink(missing_ok=True)
            engine.save_to_file(text, str(target))
            # The espeak driver prints "Audio saved to ..." on stdout for every file.
            with contextlib.redirect_stdout(io.StringIO()):
                engine.runAndWait()
            if target.is_file() and target.stat().st_size > 44:  # 44 bytes: a WAV header and no audio
                return target
        raise SynthesisError(f"pyttsx3 wrote no audio for {text!r} (voice {voice}) in {ATTEMPTS} attempts")


_worker = SpeechWorker()


def synthesize(text: str, voice: str, rate: int, target: Path) -> Path:
    """Speak text into a WAV file through the process's single speech worker."""
    return _worker.synthesize(text, voice, rate, target)
