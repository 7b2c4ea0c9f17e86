"""Spoken words on SIP calls: the caller's frames from the media port into the same MenuRecognizer as Twilio's.

pjsua2 hands frames to Python on its media clock thread, not on the polled SIP thread; decoding
there would stall every call's audio. feed() only queues the frame; one thread per listening menu
decodes (Vosk releases the GIL while it works) and reports a match through `heard`, which posts to
the SIP thread. Keys keep working whatever happens here (a missing model, a broken decoder).
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Callable

import numpy as np

log = logging.getLogger("hausruf.sip.speech")
QUEUE_FRAMES = 500  # 10 s of 20 ms frames; a decoder that far behind drops frames rather than memory


class MenuListener:
    """Decodes one menu's audio on its own thread; calls heard(phrase) once, on the first confident match."""

    def __init__(self, make_recognizer: Callable[[], object], heard: Callable[[str], None], name: str = "menu"):
        self._make_recognizer = make_recognizer
        self._heard = heard
        self._frames: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sip-listen-{name}", daemon=True)
        self._thread.start()

    def feed(self, pcm: bytes) -> None:
        """One frame of 16-bit 8 kHz PCM (any thread; never blocks)."""
        if not self._stopped.is_set():
            try:
                self._frames.put_nowait(pcm)
            except queue.Full:
                pass

    def stop(self) -> None:
        """Stop listening (the menu was answered, timed out, or the call ended)."""
        self._stopped.set()
        try:
            self._frames.put_nowait(None)
        except queue.Full:
            pass

    def _run(self) -> None:
        from speech.audio import pcm_to_mulaw

        try:
            recognizer = self._make_recognizer()
        except Exception:  # noqa: BLE001 - no model or a bad grammar: keys still work
            log.exception("no recogniser for this menu; keys only")
            return
        while not self._stopped.is_set():
            frame = self._frames.get()
            if frame is None:
                return
            # The recogniser takes what Twilio sends, 8 kHz mu-law: one decoder for both lines.
            match = recognizer.feed_mulaw(pcm_to_mulaw(np.frombuffer(frame, dtype=np.int16)))
            if match is not None and not self._stopped.is_set():
                self._stopped.set()
                self._heard(match.phrase)
                return
