"""Engine steps for SIP calls, run on worker threads: the call handler decides, this turns actions into a Plan.

A Plan is everything the SIP thread needs to render one step without touching the database or
espeak: the prompt files to play (rendered here when missing, never silence), and what to wait for
afterwards (a key or word, a connect, a recording, or the end). Nothing here imports pjsua2.
"""

from __future__ import annotations

import functools
import logging
import wave
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ivr.calls.spool import spool_missed_call
from ivr.engine.actions import Ask, Dial, Hangup, Poll, Record, Say
from ivr.engine.events import CallStarted, Event
from ivr.telephony.sip.recordings import PROVIDER
from ivr.telephony.ports import StepResult
from ivr.wiring import hausruf

log = logging.getLogger("hausruf.sip")

PAUSE_SECONDS = 1  # between the segments of a prompt, as Twilio's <Pause length="1"> in our TwiML
MENU, DIAL, RECORD, POLL, HANGUP = "menu", "dial", "record", "poll", "hangup"


@dataclass(frozen=True)
class Plan:
    """What the SIP thread does for one step: play these files, then wait as `wait` says."""

    files: tuple[Path, ...]
    wait: str  # MENU, DIAL, RECORD, POLL or HANGUP
    step: int | None = None  # the step events of this wait belong to; None for the staff fallback
    language: str = "de"
    ask: Ask | None = None
    dial_numbers: tuple[str, ...] = ()
    dial_timeout: int = 30
    whisper: Path | None = None
    record_seconds: int = 0
    poll_seconds: int = 0  # POLL: ask again after the files and this pause (a message's transcript)
    fallback: bool = False  # the plan is the apology; its dial outcome goes to no engine step
    after_fallback: tuple[Path, ...] = field(default_factory=tuple)  # said when the staff dial fails

    @property
    def seconds(self) -> float:
        """How long the files play."""
        return sum(wav_seconds(path) for path in self.files)


@functools.lru_cache(maxsize=4096)
def _wav_seconds(path: str, mtime: float) -> float:
    with wave.open(path, "rb") as audio:
        return audio.getnframes() / float(audio.getframerate())


def wav_seconds(path: Path) -> float:
    """Duration of a WAV file (cached per file version)."""
    return _wav_seconds(str(path), path.stat().st_mtime)


def tone_files(folder: Path) -> dict[str, Path]:
    """The pause and the beep before a recording, written once as 8 kHz WAV files."""
    import numpy as np

    from speech.audio import write_wav

    folder.mkdir(parents=True, exist_ok=True)
    files = {"pause": folder / "pause-1s.wav", "beep": folder / "beep.wav"}
    if not files["pause"].is_file():
        write_wav(files["pause"], np.zeros(8000 * PAUSE_SECONDS, dtype=np.int16), 8000)
    if not files["beep"].is_file():
        t = np.arange(int(8000 * 0.4)) / 8000.0
        write_wav(files["beep"], (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16), 8000)
    return files


class CallSteps:
    """Runs steps of SIP calls through the hotline's CallService port (ivr.telephony.ports), inside the app's context."""

    def __init__(self, app, clock=None):
        self.app = app
        self.settings = app.config["HAUSRUF"]
        wiring = hausruf(app)
        if clock is not None:
            wiring.clock = clock
        self.wiring = wiring
        self.renderer = wiring.prompt_renderer
        self.calls = wiring.calls(PROVIDER)  # each step under the database deadline, as the Twilio webhooks
        self.tones = tone_files(self.settings.data_dir / "sip")

    def start(self, call_id: str, caller: str | None, called: str | None = None) -> Plan:
        """A call was answered: the called number picks the flow (HAUSRUF_NUMBERS); run it to its first wait."""
        with self.app.app_context():
            return self.plan(self.calls.start(call_id, caller, called))

    def event(self, call_id: str, event: Event, step: int | None, kind: str, detail: str = "") -> Plan:
        """A key, a word, a timeout, a connect or a recording ended: the next step."""
        if isinstance(event, CallStarted):
            raise ValueError("use start() for a new call")
        with self.app.app_context():
            return self.plan(self.calls.deliver(call_id, event, step, kind, detail))

    def poll(self, call_id: str, step: int | None) -> Plan:
        """The call waits for its message's transcript (house_message): how far it is, as the next step."""
        from ivr.db.engine import read_only
        from ivr.tasks.housemessages import draft_event

        with self.app.app_context():
            event = self.wiring.database.run(lambda session: draft_event(read_only(session), PROVIDER, call_id))
            return self.plan(self.calls.deliver(call_id, event, step, "transcript",
                                                "waiting" if event.text is None else "ready"))

    def close(self, call_id: str, status: str, seconds: int | None) -> None:
        """The caller hung up: close the call's record (status: one of ivr.db.models.CALL_STATUSES)."""
        with self.app.app_context():
            self.calls.end(call_id, status, seconds)

    def plan(self, result: StepResult) -> Plan:
        """Prompt files and the wait for one stored step."""
        files: list[Path] = []
        for action in result.actions:
            if isinstance(action, (Say, Ask)):
                files.extend(self._spoken(action.segments, action.language, pause_first=bool(files)))
            if isinstance(action, Ask):
                return Plan(tuple(files), MENU, result.step, result.language, ask=action)
            if isinstance(action, Dial):
                whisper = self.prompt(action.whisper, action.language) if action.whisper.strip() else None
                return Plan(tuple(files), DIAL, result.step, result.language, dial_numbers=action.numbers,
                            dial_timeout=action.timeout_seconds, whisper=whisper)
            if isinstance(action, Record):
                files.append(self.tones["beep"])
                return Plan(tuple(files), RECORD, result.step, result.language, record_seconds=action.max_seconds)
            if isinstance(action, Poll):
                return Plan(tuple(files), POLL, result.step, result.language, poll_seconds=action.seconds)
            if isinstance(action, Hangup):
                break
        # Nothing left to wait for: the last prompt, then hang up (never silence on an open line).
        return Plan(tuple(files), HANGUP, result.step, result.language)

    def fallback(self, call_sid: str, from_number: str | None, reason: str) -> Plan:
        """Anything failed: the apology, then staff (or a promised callback); the number is spooled."""
        from ivr.telephony.twilio.translate import FALLBACK_TEXTS  # the same words on both lines

        if from_number:
            try:
                spool_missed_call(self.settings.data_dir, PROVIDER, call_sid, from_number, reason)
            except OSError:
                log.exception("could not spool the missed call either")
        language = self.settings.default_language if self.settings.default_language in FALLBACK_TEXTS else "de"
        texts = FALLBACK_TEXTS[language]
        staff = self.settings.staff_number
        try:
            if staff:
                return Plan((self.prompt(texts["connect"], language),), DIAL, None, language, dial_numbers=(staff,),
                            dial_timeout=40, fallback=True, after_fallback=(self.prompt(texts["later"], language),))
            return Plan((self.prompt(texts["callback"], language),), HANGUP, None, language, fallback=True)
        except Exception:  # noqa: BLE001 - espeak broken too: still put the caller through
            log.exception("could not render the apology; connecting without it")
            return Plan((), DIAL if staff else HANGUP, None, language, dial_numbers=(staff,) if staff else (),
                        dial_timeout=40, fallback=True)

    def _spoken(self, segments, language: str, pause_first: bool) -> list[Path]:
        files: list[Path] = []
        for index, text in enumerate(segments):
            if index or pause_first:
                files.append(self.tones["pause"])
            files.append(self.prompt(text, language))
        return files

    def prompt(self, text: str, language: str) -> Path:
        """The 8 kHz file of a prompt: pre-rendered by `hausruf prompts build`, else rendered now."""
        path = self.renderer.path_for(text, language)
        if path.is_file():
            return path
        path, _ = self.renderer.render(text, language)
        return path

    def now(self) -> datetime:
        return self.wiring.clock()
