"""The SIP line: PJSIP (pjsua2) answers calls and renders each step's Plan; the only module importing pjsua2.

Threads, as PJSIP advises for Python (threadCnt=0, mainThreadOnly=True): one SIP thread owns the
endpoint and every pjsua2 object; it polls libHandleEvents, runs what other threads post to its
inbox, and fires its timers. Engine steps (database) and prompt rendering (espeak) run on a worker
pool and post their Plan back; the caller's audio frames arrive on PJSIP's media clock thread and
go to a MenuListener thread. So one slow step or decode never stalls another call's audio.

Call objects are dropped right after they disconnect (pjproject #3856, #2416: Call objects that
outlive libDestroy assert at shutdown).
"""

from __future__ import annotations

import gc
import heapq
import itertools
import json
import logging
import os
import queue
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pjsua2 as pj

from ivr.directory.phones import mask
from ivr.engine.events import DialFinished, DigitsPressed, NoInput, RecordingFinished, WordsSpoken
from ivr.telephony.sip.identity import call_sid as make_call_sid
from ivr.telephony.sip.identity import called_from_invite, caller_from_invite
from ivr.telephony.sip.listen import MenuListener
from ivr.telephony.sip.settings import SipSettings, split_host_port
from ivr.telephony.sip.status import status_path
from ivr.telephony.sip.steps import DIAL, HANGUP, MENU, POLL, RECORD, CallSteps, Plan, wav_seconds
from ivr.wiring import hausruf

log = logging.getLogger("hausruf.sip")
pjsip_log = logging.getLogger("hausruf.sip.pjsip")

# Four calls per process is a compile-time limit of the pjsua2-python wheel: since pjproject 2.11
# (pjsip/pjproject#2654) PJSUA_MAX_CALLS defaults to 4, it sizes the static array pjsua_var.calls, and
# pjsua_call_subsys_init() clamps uaConfig.maxCalls to it; the wheel's config_site.h does not raise it
# (measured: maxCalls 32 gives 4 calls, the fifth makeCall fails with PJ_ETOOMANY). A caller put through
# to a partner uses two. Further INVITEs get 486 Busy Here from PJSIP itself, and a connect without a
# free slot takes the flow's fallback. docs/sip.md ("More than four calls"): several lines behind a SIP edge.
MAX_CALLS = 4
POLL_MS = 10
BUSY_CODES = {486, 600, 603}
NO_ANSWER_CODES = {408, 480, 487}
RINGBACK = (425, 1000, 4000)  # German ringing tone: 425 Hz, 1 s on, 4 s off
FRAME_FORMAT = (8000, 1, 20000, 16)  # clock rate, channels, frame time (us), bits: what the recogniser takes


class _Timer:
    """A cancellable timer run by the SIP thread."""

    def __init__(self, fn: Callable[[], None]):
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        self.fn = None  # let go of the session (and its Call) now, not when the deadline comes


class _FramePort(pj.AudioMediaPort):
    """The caller's audio, 20 ms of 16-bit 8 kHz PCM per frame, handed to the current listener."""

    def __init__(self):
        super().__init__()
        self.listener: MenuListener | None = None

    def onFrameReceived(self, frame):  # noqa: N802 - pjsua2's name; runs on the media clock thread
        listener = self.listener
        if listener is not None and frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO:
            listener.feed(bytes(frame.buf))

    def onFrameRequested(self, frame):  # noqa: N802 - we only listen; the port sends nothing
        frame.type = pj.PJMEDIA_FRAME_TYPE_NONE


class _LogWriter(pj.LogWriter):
    """PJSIP's log lines into Python's logging; counts the callers PJSIP itself turned away as busy.

    With mainThreadOnly=True pjsua2 queues lines logged on other threads for the SIP thread, so write()
    runs there. pjsua2 deletes the writer in libDestroy: the line disowns it (SWIG) so Python does not too.
    """

    BUSY = "Unable to accept incoming call (too many calls)"  # pjsua_call.c, after its stateless 486

    def __init__(self, line: "SipLine"):
        super().__init__()
        self.line = line

    def write(self, entry):
        message = entry.msg.rstrip()
        if self.BUSY in message:
            self.line.counts["busy"] += 1
            self.line.post(self.line._write_status)
            log.warning("an INVITE got 486 Busy Here: all %s calls of this line are in use", MAX_CALLS)
            return
        pjsip_log.log(logging.ERROR if entry.level <= 1 else logging.INFO if entry.level == 2 else logging.DEBUG,
                      "%s", message)


def _guarded(callback):
    """A pjsua2 callback that logs its exceptions instead of raising them into PJSIP."""

    def guarded(self, prm):
        try:
            callback(self, prm)
        except Exception:  # noqa: BLE001 - an exception must not unwind through the C++ library
            log.exception("SIP callback %s failed", callback.__name__)

    guarded.__name__ = callback.__name__
    return guarded


class _Call(pj.Call):
    """A pjsua2 call whose callbacks go to its owner (a CallSession or a dial leg)."""

    def __init__(self, account, call_id=pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.owner = None

    @_guarded
    def onCallState(self, prm):  # noqa: N802
        if self.owner is not None:
            self.owner.on_state(self)

    @_guarded
    def onCallMediaState(self, prm):  # noqa: N802
        if self.owner is not None:
            self.owner.on_media(self)

    @_guarded
    def onDtmfDigit(self, prm):  # noqa: N802 - RFC 2833/4733 events and SIP INFO both arrive here
        if self.owner is not None:
            self.owner.on_digit(self, prm.digit)


class _Account(pj.Account):
    def __init__(self, line: "SipLine", name: str):
        super().__init__()
        self.line = line
        self.name = name

    @_guarded
    def onIncomingCall(self, prm):  # noqa: N802
        self.line.incoming(self, prm)

    @_guarded
    def onRegState(self, prm):  # noqa: N802
        self.line.registration_changed(self, prm)


def audio_media(call: pj.Call):
    """The call's active audio media, or None."""
    info = call.getInfo()
    for index, media in enumerate(info.media):
        if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
            return call.getAudioMedia(index)
    return None


def hang_up(call: pj.Call, code: int = 0) -> None:
    """Hang up unless already gone; pjsua2 raises for calls that ended meanwhile."""
    try:
        if call.isActive():
            op = pj.CallOpParam()
            op.statusCode = code
            call.hangup(op)
    except pj.Error:
        pass


@dataclass
class _Dial:
    """One connect: legs ringing in parallel, the first to answer hears the whisper and is bridged."""

    plan: Plan
    legs: list = field(default_factory=list)
    codes: list = field(default_factory=list)
    winner: object = None
    answered_at: float | None = None
    bridged: bool = False
    whisper: object = None
    timer: _Timer | None = None
    done: bool = False


class CallSession:
    """One caller on the SIP thread: plays plans, collects keys and words, connects, records."""

    def __init__(self, line: "SipLine", call: _Call, call_sid: str, number: str | None, called: str | None = None):
        self.line = line
        self.call = call
        self.call_sid = call_sid
        self.number = number
        self.called = called  # the number that was called: it picks the flow
        self.started = time.monotonic()
        self.media = None
        self.plan: Plan | None = None
        self.pending: Plan | None = None  # a plan that arrived before the media was up
        self.busy = False  # a step is being decided on a worker
        self.ended = False
        self.player = None
        self.timer: _Timer | None = None
        self.port: _FramePort | None = None
        self.listener: MenuListener | None = None
        self.tone = None
        self.dial: _Dial | None = None
        self.recorder = None
        self.recording: Path | None = None
        self.future = None  # the step being decided; closing the record waits for it
        self._timers: list[_Timer] = []
        call.owner = self

    def _later(self, seconds: float, fn) -> _Timer:
        """A timer of this call; all of them are cancelled when it ends."""
        self._timers = [t for t in self._timers if not t.cancelled and t.fn is not None]
        timer = self.line.later(seconds, fn)
        self._timers.append(timer)
        return timer

    # --- pjsua2 callbacks (SIP thread) ---
    def on_state(self, call) -> None:
        if call is not self.call:
            return self._leg_state(call)
        if call.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED and not self.ended:
            self._end()

    def on_media(self, call) -> None:
        if call is not self.call:
            return self._leg_media(call)
        media = audio_media(call)
        if media is None or self.media is not None:
            return
        self.media = media
        if self.pending is not None:
            plan, self.pending = self.pending, None
            self.apply(plan)

    def on_digit(self, call, digit: str) -> None:
        log.debug("call %s: DTMF %s (busy=%s, waiting=%s)", self.call_sid, digit, self.busy,
                  self.plan.wait if self.plan else None)
        if call is not self.call or self.ended or self.busy or self.plan is None:
            return
        if self.plan.wait == MENU:
            log.info("call %s: key %s", self.call_sid, digit)
            self._step(DigitsPressed(digit), "digits", digit)
        elif self.plan.wait == RECORD and digit == "#" and self.recorder is not None:
            self._finish_recording()

    # --- steps ---
    def begin(self) -> None:
        """Run the flow's first step on a worker."""
        self.busy = True
        self.line.submit(self, lambda: self.line.steps.start(self.call_sid, self.number, self.called))

    def heard(self, phrase: str, step: int | None) -> None:
        """The listener matched a phrase of the menu at `step` (posted to the SIP thread)."""
        if self.ended or self.busy or self.plan is None or self.plan.wait != MENU or self.plan.step != step:
            log.info("call %s: heard %r too late", self.call_sid, phrase)
            return
        log.info("call %s: heard %r", self.call_sid, phrase)
        self._step(WordsSpoken(phrase), "speech", phrase)

    def _step(self, event, kind: str, detail: str) -> None:
        step = self.plan.step if self.plan else None
        self._stop_waiting()
        self.busy = True
        self.line.submit(self, lambda: self.line.steps.event(self.call_sid, event, step, kind, detail))

    def apply(self, plan: Plan) -> None:
        """Render one step's plan: play its files, then wait as it says."""
        self.busy = False
        if self.ended:
            return
        if self.media is None:
            self.pending = plan
            return
        self._stop_waiting()
        self.plan = plan
        try:
            if plan.wait == MENU:
                self._listen(plan)
            self._play(plan.files)
            self.timer = self._later(plan.seconds, lambda: self._played(plan))
        except Exception as exc:  # noqa: BLE001 - a bad prompt file must not leave the caller in silence
            log.exception("call %s: could not play the step", self.call_sid)
            if plan.fallback:
                hang_up(self.call)
                return
            self.busy = True
            self.line.count_fallback()
            self.line.submit(self, lambda: self.line.steps.fallback(self.call_sid, self.number, str(exc)))

    def _played(self, plan: Plan) -> None:
        if self.ended or plan is not self.plan:
            return
        self._stop_player()
        if plan.wait == MENU:
            self.timer = self._later(plan.ask.timeout_seconds, lambda: self._step(NoInput(), "no_input", ""))
        elif plan.wait == DIAL:
            self._dial(plan)
        elif plan.wait == RECORD:
            self._record(plan)
        elif plan.wait == POLL:
            self.timer = self._later(plan.poll_seconds, lambda: self._poll(plan))
        else:
            hang_up(self.call)

    def _poll(self, plan: Plan) -> None:
        """Ask again how far the message's transcript is (the steps read it from the database)."""
        if self.ended or plan is not self.plan:
            return
        self.busy = True
        self.line.submit(self, lambda: self.line.steps.poll(self.call_sid, plan.step))

    def _stop_waiting(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self._stop_player()
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        if self.port is not None:
            self.port.listener = None

    # --- audio ---
    def _play(self, files, to=None) -> object:
        """A player of the files (in order) transmitting to the caller, or to `to`."""
        target = to if to is not None else self.media
        if not files or target is None:
            return None
        player = pj.AudioMediaPlayer()
        if len(files) == 1:
            player.createPlayer(str(files[0]), pj.PJMEDIA_FILE_NO_LOOP)
        else:
            names = pj.StringVector()
            for path in files:
                names.append(str(path))
            player.createPlaylist(names, "prompt", pj.PJMEDIA_FILE_NO_LOOP)
        player.startTransmit(target)
        if to is None:
            self.player = player
        return player

    def _stop_player(self) -> None:
        if self.player is not None:
            try:
                self.player.stopTransmit(self.media)
            except pj.Error:
                pass
            self.player = None

    def _listen(self, plan: Plan) -> None:
        """Start a recogniser for this menu, fed from the media port, when the language has a model."""
        make = self.line.recognizer_factory(plan)
        if make is None:
            return
        if self.port is None:
            self.port = _FramePort()
            fmt = pj.MediaFormatAudio()
            fmt.init(pj.PJMEDIA_FORMAT_PCM, *FRAME_FORMAT)
            self.port.createPort(f"rx-{id(self)}", fmt)
            self.media.startTransmit(self.port)
        step = plan.step
        self.listener = MenuListener(make, lambda phrase: self.line.post(lambda: self.heard(phrase, step)),
                                     name=self.call_sid[-8:])
        self.port.listener = self.listener

    def _ringback(self, on: bool) -> None:
        if on and self.tone is None and self.media is not None:
            self.tone = pj.ToneGenerator()
            self.tone.createToneGenerator(8000, 1)
            desc = pj.ToneDesc()
            desc.freq1, desc.freq2 = RINGBACK[0], 0
            desc.on_msec, desc.off_msec = RINGBACK[1], RINGBACK[2]
            tones = pj.ToneDescVector()
            tones.append(desc)
            self.tone.play(tones, True)
            self.tone.startTransmit(self.media)
        elif not on and self.tone is not None:
            try:
                self.tone.stopTransmit(self.media)
            except pj.Error:
                pass
            self.tone = None

    # --- connect ---
    def _dial(self, plan: Plan) -> None:
        dial = self.dial = _Dial(plan)
        self._ringback(True)
        for number in plan.dial_numbers:
            uri = self.line.dial_uri(number)
            leg = _Call(self.line.outgoing_account)
            leg.owner = self
            try:
                if uri is None:
                    raise ValueError("no HAUSRUF_SIP_REGISTRAR or HAUSRUF_SIP_OUTBOUND_PROXY to dial through")
                leg.makeCall(uri, pj.CallOpParam(True))
                dial.legs.append(leg)
                log.info("call %s: dialling %s", self.call_sid, mask(number))
            except (pj.Error, ValueError) as exc:
                log.error("call %s: cannot dial %s: %s", self.call_sid, mask(number),
                          getattr(exc, "info", lambda: exc)() if isinstance(exc, pj.Error) else exc)
                dial.codes.append(500)
        if not dial.legs:
            self._dial_finished("failed")
            return
        dial.timer = self._later(plan.dial_timeout, self._dial_timed_out)

    def _dial_timed_out(self) -> None:
        dial = self.dial
        if dial is None or dial.done or dial.winner is not None:
            return
        log.info("call %s: nobody answered within %s s", self.call_sid, dial.plan.dial_timeout)
        self._dial_finished("no-answer")

    def _leg_state(self, leg) -> None:
        dial = self.dial
        if dial is None or leg not in dial.legs:
            return
        info = leg.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED and dial.winner is None and not dial.done:
            dial.winner = leg
            dial.answered_at = time.monotonic()
            if dial.timer:
                dial.timer.cancel()
            for other in dial.legs:
                if other is not leg:
                    hang_up(other)
            self._leg_media(leg)
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            dial.legs.remove(leg)
            self.line.drop_later(leg)
            if dial.done:
                return
            if leg is dial.winner:
                self._dial_finished("completed")
            elif dial.winner is None:
                dial.codes.append(info.lastStatusCode)
                if not dial.legs:
                    codes = set(dial.codes)
                    outcome = "busy" if codes & BUSY_CODES else "no-answer" if codes & NO_ANSWER_CODES else "failed"
                    self._dial_finished(outcome)

    def _leg_media(self, leg) -> None:
        dial = self.dial
        if dial is None or leg is not dial.winner or dial.bridged or dial.whisper is not None:
            return
        media = audio_media(leg)
        if media is None or leg.getInfo().state != pj.PJSIP_INV_STATE_CONFIRMED:
            return
        if dial.plan.whisper is not None:
            # The whisper goes to the callee only; the caller keeps hearing the ringing tone.
            dial.whisper = self._play([dial.plan.whisper], to=media)
            self._later(wav_seconds(dial.plan.whisper), lambda: self._bridge(leg))
        else:
            dial.whisper = True
            self._bridge(leg)

    def _bridge(self, leg) -> None:
        dial = self.dial
        if self.ended or dial is None or dial.done or leg is not dial.winner:
            return
        media = audio_media(leg)
        if media is None:
            return
        self._ringback(False)
        if dial.whisper is not None and dial.whisper is not True:
            try:
                dial.whisper.stopTransmit(media)
            except pj.Error:
                pass
        self.media.startTransmit(media)
        media.startTransmit(self.media)
        dial.bridged = True
        log.info("call %s: connected", self.call_sid)

    def _dial_finished(self, outcome: str) -> None:
        dial = self.dial
        if dial is None or dial.done:
            return
        dial.done = True
        if dial.timer:
            dial.timer.cancel()
        self._ringback(False)
        for leg in list(dial.legs):
            hang_up(leg)
        seconds = int(time.monotonic() - dial.answered_at) if dial.answered_at else 0
        self.dial = None
        if self.ended:
            return
        log.info("call %s: connect ended: %s", self.call_sid, outcome)
        if dial.plan.fallback:
            if outcome == "completed" or not dial.plan.after_fallback:
                hang_up(self.call)
            else:
                self.apply(Plan(dial.plan.after_fallback, HANGUP, None, dial.plan.language, fallback=True))
            return
        self.plan = dial.plan
        self._step(DialFinished(outcome, seconds), "dial", outcome)

    # --- record ---
    def _record(self, plan: Plan) -> None:
        folder = self.line.steps.settings.recordings_dir
        folder.mkdir(parents=True, exist_ok=True)
        self.recording = folder / f"sip-{uuid.uuid4().hex}.wav"
        self.recorder = pj.AudioMediaRecorder()
        self.recorder.createRecorder(str(self.recording))
        self.media.startTransmit(self.recorder)
        self.timer = self._later(plan.record_seconds, self._finish_recording)
        log.info("call %s: recording a message (# or %s s ends it)", self.call_sid, plan.record_seconds)

    def _finish_recording(self) -> None:
        if self.recorder is None:
            return
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        try:
            self.media.stopTransmit(self.recorder)
        except pj.Error:
            pass
        self.recorder = None  # the conference bridge closes the file (and fills in its header) a moment later
        path, self.recording = self.recording, None
        # So count from the size: 8 kHz, 16 bit, mono after the 44-byte header (the bridge's clock rate).
        seconds = int(max(0, path.stat().st_size - 44) / 16000) if path and path.is_file() else 0
        reference = path.stem if seconds >= 1 else None
        if reference is None and path is not None:
            path.unlink(missing_ok=True)
        self._step(RecordingFinished(reference, seconds), "recording", reference or "")
        if reference:
            self.line.recording_saved(self.call_sid, reference)

    # --- the end ---
    def _end(self) -> None:
        """The caller hung up (or we did): stop everything, close the record, drop the Call objects."""
        if self.recorder is not None and self.plan is not None and not self.busy:
            self._finish_recording()  # a message ended by hanging up is still a message
        dial = self.dial
        if dial is not None and dial.answered_at and not dial.done and not dial.plan.fallback:
            # Hung up while connected: the connect ended well, as Twilio reports it to the Dial action.
            seconds, step = int(time.monotonic() - dial.answered_at), dial.plan.step
            self.line.submit(self, lambda: self.line.steps.event(self.call_sid, DialFinished("completed", seconds),
                                                                 step, "dial", "completed"))
        self.ended = True
        self._stop_waiting()
        self._ringback(False)
        if self.dial is not None:
            self.dial.done = True
            for leg in list(self.dial.legs):
                hang_up(leg)
        for timer in self._timers:
            timer.cancel()
        self._timers = []
        seconds = int(time.monotonic() - self.started)
        status = "ended" if self.plan is not None else "unanswered"  # ivr.db.models.CALL_STATUSES
        self.line.ended(self, status, seconds)


class SipLine:
    """The endpoint, its accounts and every live call; run() polls it on the calling thread."""

    def __init__(self, sip: SipSettings, steps: CallSteps, recognizers=None, workers: int = 16):
        self.sip = sip
        self.steps = steps
        self.recognizers = recognizers  # (language, phrases) -> recogniser factory or None
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sip-step")
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.timers: list = []
        self._order = itertools.count()
        self.sessions: dict[str, CallSession] = {}
        self._doomed: list = []  # Call objects to drop on the next loop, outside their own callbacks
        self.registration = {"registered": None, "code": None, "reason": "not registering"}
        # Incoming calls since the line started, by what became of them (/metrics, via the status file).
        self.counts = {"answered": 0, "forbidden": 0, "busy": 0, "failed": 0}
        self.fallbacks = 0  # steps that failed: apology and staff (or the callback promise)
        self.endpoint = None
        self.accounts: list[_Account] = []
        self.outgoing_account = None
        self.thread_id = None
        self.status_path = status_path(steps.settings.data_dir, sip.listen_port)

    # --- thread plumbing ---
    def post(self, fn: Callable[[], None]) -> None:
        """Run fn on the SIP thread (from any thread)."""
        self.inbox.put(fn)

    def later(self, seconds: float, fn: Callable[[], None]) -> _Timer:
        """Run fn on the SIP thread after `seconds` (SIP thread only)."""
        timer = _Timer(fn)
        heapq.heappush(self.timers, (time.monotonic() + max(0.0, seconds), next(self._order), timer))
        return timer

    def submit(self, session: CallSession, work: Callable[[], Plan]) -> None:
        """Decide a step on a worker; its plan (or the staff fallback) comes back to the SIP thread."""
        def run():
            try:
                plan = work()
            except Exception as exc:  # noqa: BLE001 - never dead air: apology and staff, whatever broke
                log.exception("call %s: step failed; falling back to staff", session.call_sid)
                plan = self.steps.fallback(session.call_sid, session.number, str(exc))
                self.post(self.count_fallback)
            self.post(lambda: session.apply(plan))

        session.future = self.pool.submit(run)

    def count_fallback(self) -> None:
        """A step failed and the caller gets the apology and staff (SIP thread)."""
        self.fallbacks += 1
        self._write_status()

    def recognizer_factory(self, plan: Plan):
        """A zero-argument factory of the menu's recogniser, or None when its language has no model."""
        if self.recognizers is None or plan.ask is None:
            return None
        return self.recognizers(plan.language, plan.ask.phrases)

    # --- lifecycle ---
    def start(self) -> None:
        """Create the endpoint, transports and accounts on this thread (which must then call run())."""
        self.thread_id = threading.get_ident()
        sip = self.sip
        ep = self.endpoint = pj.Endpoint()
        ep.libCreate()
        config = pj.EpConfig()
        config.uaConfig.threadCnt = 0
        config.uaConfig.mainThreadOnly = True
        config.uaConfig.maxCalls = MAX_CALLS
        config.uaConfig.userAgent = "Hausruf"
        config.logConfig.level = 3
        # Level 2 carries PJSIP's warnings, among them the busy callers counted by the writer.
        config.logConfig.consoleLevel = 2 if log.getEffectiveLevel() > logging.DEBUG else 4
        config.logConfig.writer = self.log_writer = _LogWriter(self)
        self.log_writer.__disown__()  # pjsua2 deletes it in libDestroy
        config.medConfig.clockRate = 8000
        config.medConfig.sndClockRate = 8000
        config.medConfig.channelCount = 1
        config.medConfig.noVad = True
        config.medConfig.ecTailLen = 0
        config.medConfig.maxMediaPorts = 64  # per call: its stream, a player, a tone, a listener, a recorder
        ep.libInit(config)
        for kind in (pj.PJSIP_TRANSPORT_UDP, pj.PJSIP_TRANSPORT_TCP):
            transport = pj.TransportConfig()
            transport.port = sip.listen_port
            transport.boundAddress = "" if sip.listen_host in ("0.0.0.0", "::") else sip.listen_host
            if sip.public_address:
                transport.publicAddress = sip.public_address
            ep.transportCreate(kind, transport)
        ep.libStart()
        ep.audDevManager().setNullDev()  # no sound card: the conference bridge runs on its own clock
        for codec in ep.codecEnum2():
            ep.codecSetPriority(codec.codecId, 0)
        ep.codecSetPriority("PCMA/8000/1", 200)  # what German trunks prefer
        ep.codecSetPriority("PCMU/8000/1", 190)
        local = self._account("local", f"sip:hotline@{self._contact_host()}:{sip.listen_port}")
        self.outgoing_account = local
        if sip.registers:
            self.outgoing_account = self._account("trunk", f"sip:{sip.user}@{split_host_port(sip.registrar)[0]}",
                                                  register=True)
        log.info("SIP line listening on %s:%s (UDP and TCP)%s; up to %s calls at once", sip.listen_host,
                 sip.listen_port, f", registering as {sip.user} at {sip.registrar}" if sip.registers else "", MAX_CALLS)
        self._write_status()

    def _contact_host(self) -> str:
        if self.sip.public_address:
            return self.sip.public_address
        return "127.0.0.1" if self.sip.listen_host in ("0.0.0.0", "::") else self.sip.listen_host

    def _account(self, name: str, id_uri: str, register: bool = False) -> _Account:
        sip = self.sip
        config = pj.AccountConfig()
        config.idUri = id_uri
        config.mediaConfig.transportConfig.port = sip.rtp_port_start
        config.mediaConfig.transportConfig.portRange = sip.rtp_port_count
        if sip.public_address:
            config.mediaConfig.transportConfig.publicAddress = sip.public_address
            config.natConfig.sipOutboundUse = 0
        if sip.outbound_proxy:
            config.sipConfig.proxies.append(f"sip:{sip.outbound_proxy};lr")
        if register:
            config.regConfig.registrarUri = f"sip:{sip.registrar}"
            config.regConfig.registerOnAdd = True
            config.regConfig.timeoutSec = 300
            config.regConfig.retryIntervalSec = 60  # after a failure, try again every minute
            config.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", sip.user, 0, sip.password))
        account = _Account(self, name)
        account.create(config, make_default=not register)
        self.accounts.append(account)
        return account

    def run(self, stop: threading.Event) -> None:
        """Poll until stop is set, then hang up every call and shut the endpoint down."""
        status_due = 0.0
        while not stop.is_set():
            self.endpoint.libHandleEvents(POLL_MS)
            self._run_inbox()
            self._run_timers()
            if self._doomed:
                self._forget_doomed()
            if time.monotonic() >= status_due:
                self._write_status()
                status_due = time.monotonic() + 10
        self.shutdown()

    def _run_inbox(self) -> None:
        while True:
            try:
                fn = self.inbox.get_nowait()
            except queue.Empty:
                return
            try:
                fn()
            except Exception:  # noqa: BLE001 - one call's bug must not stop the line
                log.exception("SIP thread task failed")

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            _, _, timer = heapq.heappop(self.timers)
            if not timer.cancelled and timer.fn is not None:
                try:
                    timer.fn()
                except Exception:  # noqa: BLE001
                    log.exception("SIP timer failed")

    def shutdown(self) -> None:
        """Hang up, give the BYEs a moment, drop every pjsua2 object, destroy the library."""
        ep = self.endpoint
        if ep is None:
            return
        for session in list(self.sessions.values()):
            hang_up(session.call)
        deadline = time.monotonic() + 2
        while self.sessions and time.monotonic() < deadline:
            ep.libHandleEvents(POLL_MS)
            self._run_inbox()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self._run_inbox()
        self.sessions.clear()
        self._doomed.clear()
        self.timers.clear()
        gc.collect()  # sessions and their Call objects reference each other: free them before libDestroy
        for account in self.accounts:
            account.shutdown()
        self.accounts.clear()
        self.outgoing_account = None
        ep.libDestroy()
        self.endpoint = None
        self.status_path.unlink(missing_ok=True)  # /healthz: no line here any more, rather than a stale one
        log.info("SIP line stopped")

    # --- calls ---
    def incoming(self, account: _Account, prm) -> None:
        """An INVITE: 403 unless from a trusted peer; else answer and start the flow."""
        call = _Call(account, prm.callId)
        source = prm.rdata.srcAddress.rsplit(":", 1)[0].strip("[]")
        if not self.sip.trusts(source):
            log.warning("403 for INVITE from %s: not in HAUSRUF_SIP_ALLOW", source)
            self.counts["forbidden"] += 1
            hang_up(call, 403)
            self._doomed.append(call)
            self._write_status()
            return
        info = call.getInfo()
        number = caller_from_invite(prm.rdata.wholeMsg, trusted=True)
        called = called_from_invite(prm.rdata.wholeMsg, self.sip.called_number)
        session = CallSession(self, call, make_call_sid(info.callIdString), number, called)
        self.sessions[session.call_sid] = session
        log.info("call %s from %s to %s via %s", session.call_sid, mask(number or ""), mask(called or ""), source)
        op = pj.CallOpParam()
        op.statusCode = 200
        try:
            call.answer(op)
        except pj.Error as exc:
            log.error("call %s: could not answer: %s", session.call_sid, exc.info())
            self.counts["failed"] += 1
            self._write_status()
            return
        self.counts["answered"] += 1
        session.begin()
        self._write_status()

    def dial_uri(self, number: str) -> str | None:
        """sip:NUMBER@<registrar or outbound proxy>."""
        domain = self.sip.dial_domain
        return f"sip:{number}@{domain}" if domain else None

    def ended(self, session: CallSession, status: str, seconds: int) -> None:
        """A caller's call is over: close its record on a worker, drop its objects here."""
        self.sessions.pop(session.call_sid, None)
        self.drop_later(session.call)
        if session.port is not None:
            session.port.listener = None
        session.port = session.listener = session.dial = session.player = session.tone = None
        log.info("call %s ended after %s s", session.call_sid, seconds)
        self._write_status()

        def close():
            try:
                if session.future is not None:
                    session.future.result()  # a last step (a message ended by hanging up) is stored first
                self.steps.close(session.call_sid, status, seconds)
            except Exception:  # noqa: BLE001 - the call is over; the log says why its record is open
                log.exception("call %s: could not close the record", session.call_sid)

        self.pool.submit(close)

    def _forget_doomed(self) -> None:
        """Destroy ended Call objects now. pjsua2's Call destructor clears the user data of its call slot;
        one destroyed late, after PJSUA reused the slot for a new call, would cut that call off from its
        callbacks. Sessions and Calls reference each other, hence the collection."""
        self._doomed.clear()
        gc.collect()

    def drop_later(self, call) -> None:
        """Forget a Call object on the next loop (not inside its own callback)."""
        call.owner = None
        self._doomed.append(call)

    def recording_saved(self, call_sid: str, reference: str) -> None:
        """Tell the worker a message is waiting to be transcribed (as Twilio's recording-status does)."""
        ready = hausruf(self.steps.app).recording_ready
        if ready:
            self.pool.submit(lambda: ready(reference, None))

    # --- registration and status ---
    def registration_changed(self, account: _Account, prm) -> None:
        info = account.getInfo()
        code, reason = prm.code, prm.reason
        registered = bool(info.regIsActive) and 200 <= code < 300
        if registered:
            log.info("registered as %s at %s (%s %s, expires in %s s)", self.sip.user, self.sip.registrar, code,
                     reason, prm.expiration)
        else:
            log.error("registration as %s at %s failed: %s %s; retrying every %s s", self.sip.user,
                      self.sip.registrar, code, reason, 60)
        self.registration = {"registered": registered, "code": code, "reason": reason}
        self._write_status()

    def _write_status(self) -> None:
        """data/sip/status-PORT.json: what /healthz and /metrics tell about this line (ivr.telephony.sip.status)."""
        legs = sum(len(session.dial.legs) for session in self.sessions.values() if session.dial is not None)
        status = {"pid": os.getpid(), "updated": time.time(), "listen": f"{self.sip.listen_host}:{self.sip.listen_port}",
                  "registrar": self.sip.registrar, "active_calls": len(self.sessions), "outgoing_legs": legs,
                  "max_calls": MAX_CALLS, "calls": dict(self.counts), "fallbacks": self.fallbacks,
                  **self.registration}
        try:
            self.status_path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.status_path.with_suffix(".part")
            partial.write_text(json.dumps(status))
            partial.replace(self.status_path)
        except OSError:
            log.exception("could not write %s", self.status_path)
