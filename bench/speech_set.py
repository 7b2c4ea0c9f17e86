"""Make the spoken-menu evaluation set (issue 16): espeak-ng Korean on a simulated phone line.

Run: .venv/bin/python bench/speech_set.py [--out bench/results/speech_set]   (about a minute)

Two parts, fixed before any tuning and never mixed:
  dev      the part rules are tuned on: its own 12-word menu, voices ko, ko+m3, ko+f2
  heldout  the unseen part: another 12-word menu, other distractors, voices ko+m6, ko+f4, ko+klatt2
Each part has a folder of 8 kHz mu-law WAV files (what a Twilio media stream carries) and a
labels.tsv: file, said (the text spoken), expected (the menu word, or "none"), kind, voice, speed,
noise, syllables; menu.txt lists the part's menu words. `hausruf speech eval` reads the same layout.

Every utterance: 0.5 s of line, the speech, 0.7 s of line, band-limited to 300-3400 Hz, noise over
the whole line, mu-law. Noise: clean, pink (15 dB SNR), babble (several voices at once, 12 dB), and
a TV in the room (one voice reading news over music, 10 dB). Kinds: a menu word alone, a menu word
inside a short phrase ("음, 장보기 주세요"), a distractor that sounds close to a menu word, an
unrelated word, and no speech at all (line noise only, or only the TV). The random generator is
seeded per part, so the same command always writes the same files.
"""

from __future__ import annotations

import argparse
import csv
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from speech.audio import TELEPHONE_RATE, pcm_to_mulaw  # noqa: E402
from speech.simulate import synthesize_pcm  # noqa: E402

LEAD_S, TAIL_S = 0.5, 0.7
SPEEDS = (130, 170)
NOISES = {"clean": None, "pink": 15.0, "babble": 12.0, "tv": 10.0}  # name -> SNR in dB


@dataclass(frozen=True)
class Part:
    """One part of the set: its menu, distractors, phrases and voices."""

    name: str
    seed: int
    menu: tuple[str, ...]
    close: tuple[str, ...]  # distractors that sound like a menu word
    unrelated: tuple[str, ...]
    phrases: tuple[str, ...]  # "{}" is the menu word
    voices: tuple[str, ...]


DEV = Part(
    "dev", 16,
    menu=("일", "이", "삼", "사", "영", "장보기", "안내", "사람", "엘리베이터", "병원", "택시", "청소"),
    close=("길", "비", "산", "상", "자", "하", "용", "장보고", "안에", "사랑", "택배", "청년"),
    unrelated=("학교", "김치", "고장", "날씨", "시장", "뉴스"),
    phrases=("음, {} 주세요", "어, {} 요", "저기, {} 부탁해요"),
    voices=("ko", "ko+m3", "ko+f2"),
)
HELDOUT = Part(
    "heldout", 61,
    menu=("오", "육", "칠", "구", "십", "라면", "식사", "수리", "약국", "관리실", "배달", "우유"),
    close=("고", "유", "길", "국", "신", "라디오", "식당", "수박", "약속", "관리", "배낭", "우체국"),
    unrelated=("커피", "버스", "기차", "바다", "노래", "축구"),
    phrases=("음, {} 좀요", "아, {} 해주세요", "그, {} 부탁해요"),
    voices=("ko+m6", "ko+f4", "ko+klatt2"),
)
PARTS = {part.name: part for part in (DEV, HELDOUT)}

# Background speech: news-like sentences without any menu word of either part.
NEWS = (
    "오늘 서울은 맑고 낮 기온은 이십 도까지 오르겠습니다",
    "정부는 내년 예산안을 국회에 제출했습니다",
    "주말에는 전국에 비가 내릴 것으로 보입니다",
    "경기는 삼 대 일로 끝났고 관중들은 환호했습니다",
    "새로운 영화가 이번 주 극장에서 개봉합니다",
    "시민들은 공원에서 산책을 즐겼습니다",
)
BABBLE_VOICES = ("ko+m1", "ko+f1", "ko+m4", "ko+f3", "ko+m2")


def syllables(word: str) -> int:
    """Hangul syllables in a word (each is one character)."""
    return sum(0xAC00 <= ord(ch) <= 0xD7A3 for ch in word)


def telephone_band(samples: np.ndarray) -> np.ndarray:
    """300-3400 Hz, the band of a classic phone line (FFT mask at 8 kHz)."""
    spectrum = np.fft.rfft(np.asarray(samples, dtype=np.float64))
    freqs = np.fft.rfftfreq(len(samples), 1 / TELEPHONE_RATE)
    spectrum[(freqs < 300) | (freqs > 3400)] = 0
    return np.fft.irfft(spectrum, len(samples))


def pink(length: int, rng) -> np.ndarray:
    """Pink (1/f) noise of unit RMS."""
    spectrum = np.fft.rfft(rng.normal(size=length))
    freqs = np.fft.rfftfreq(length, 1 / TELEPHONE_RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, length)
    return noise / np.sqrt(np.mean(noise**2))


def _loop(signal: np.ndarray, length: int, rng) -> np.ndarray:
    """`length` samples of a signal repeated, starting at a random point."""
    reps = np.tile(signal, length // len(signal) + 2)
    start = int(rng.integers(0, len(signal)))
    return reps[start : start + length]


def _unit(signal: np.ndarray) -> np.ndarray:
    return signal / max(np.sqrt(np.mean(signal**2)), 1e-9)


class NoiseBank:
    """Long recordings of babble and TV made once per part; each utterance takes a random stretch."""

    def __init__(self, rng):
        voices = [np.concatenate([synthesize_pcm(s, v, 160)[0] for s in NEWS[i::2]]).astype(np.float64)
                  for i, v in enumerate(BABBLE_VOICES)]
        length = max(len(v) for v in voices)
        self.babble = _unit(sum(_loop(v, length, rng) for v in voices))
        news = np.concatenate([synthesize_pcm(s, "ko+m5", 150)[0] for s in NEWS]).astype(np.float64)
        t = np.arange(len(news)) / TELEPHONE_RATE
        # Music: a slow chord progression with a little vibrato, the TV's soundtrack under the voice.
        chords = ((220, 277, 330), (196, 247, 294), (175, 220, 262), (165, 208, 247))
        which = (t // 1.5).astype(int) % len(chords)
        music = sum(np.sin(2 * np.pi * np.array([c[k] for c in chords])[which] * t * (1 + 0.003 * np.sin(5 * t)))
                    for k in range(3))
        self.tv = _unit(_unit(news) + 0.5 * _unit(music))

    def noise(self, kind: str, length: int, rng) -> np.ndarray:
        if kind == "pink":
            return pink(length, rng)
        return _loop(self.babble if kind == "babble" else self.tv, length, rng)


def line(speech: np.ndarray | None, noise: str, bank: NoiseBank, rng, seconds: float = 2.0) -> np.ndarray:
    """Speech (or none) on a phone line with noise at the part's SNR; 16-bit PCM at 8 kHz."""
    lead, tail = int(LEAD_S * TELEPHONE_RATE), int(TAIL_S * TELEPHONE_RATE)
    if speech is None:
        body = np.zeros(int(seconds * TELEPHONE_RATE))
        level = 10 ** (60 / 20)  # a caller's speech level for the no-speech items (about -30 dBFS)
    else:
        body = speech.astype(np.float64)
        loud = body[np.abs(body) > 0.1 * np.abs(body).max()]
        level = np.sqrt(np.mean(loud**2))
    signal = np.concatenate([np.zeros(lead), body, np.zeros(tail)])
    snr = NOISES[noise]
    if snr is not None:
        signal = signal + bank.noise(noise, len(signal), rng) * level / 10 ** (snr / 20)
    else:
        signal = signal + rng.normal(0, 3, len(signal))  # the hiss of a quiet line
    return np.clip(telephone_band(signal), -32768, 32767).astype(np.int16)


def write_mulaw_wav(path: Path, samples: np.ndarray) -> None:
    """An 8 kHz mono G.711 mu-law WAV file (format tag 7), as telephone recordings often are."""
    data = pcm_to_mulaw(samples)
    fmt = struct.pack("<HHIIHHH", 7, 1, TELEPHONE_RATE, TELEPHONE_RATE, 1, 8, 0)
    fact = struct.pack("<I", len(data))
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<I", 4) + fact
            + b"data" + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b""))
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def items(part: Part) -> list[dict]:
    """Every utterance of a part as a label row (the audio is made from it)."""
    rows = []
    noises = list(NOISES)
    for word in part.menu:
        for voice in part.voices:
            for speed in SPEEDS:
                for noise in noises:
                    rows.append(dict(said=word, expected=word, kind="menu", voice=voice, speed=speed, noise=noise))
    for i, word in enumerate(part.menu):
        for j, voice in enumerate(part.voices):
            template = part.phrases[(i + j) % len(part.phrases)]
            for noise in ("clean", noises[1 + (i + j) % 3]):
                rows.append(dict(said=template.format(word), expected=word, kind="phrase", voice=voice,
                                 speed=SPEEDS[(i + j) % 2], noise=noise))
    for kind, words in (("close", part.close), ("unrelated", part.unrelated)):
        for i, word in enumerate(words):
            for voice in part.voices:
                for speed in SPEEDS:
                    for noise in ("clean", noises[1 + (i + speed) % 3]):
                        rows.append(dict(said=word, expected="none", kind=kind, voice=voice, speed=speed,
                                         noise=noise))
    for noise in noises:
        for k in range(4):
            rows.append(dict(said="", expected="none", kind="silence", voice="-", speed=0, noise=noise))
    for k in range(8):
        rows.append(dict(said="", expected="none", kind="tv-only", voice="-", speed=0, noise="tv"))
    for n, row in enumerate(rows):
        row["file"] = f"{n:04d}.wav"
        row["syllables"] = syllables(row["expected"] if row["expected"] != "none" else row["said"])
    return rows


def make_part(part: Part, out: Path) -> int:
    """Write one part's WAV files, labels.tsv and menu.txt; the number of utterances."""
    folder = out / part.name
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(part.seed)
    bank = NoiseBank(rng)
    rows = items(part)
    for row in rows:
        speech = synthesize_pcm(row["said"], row["voice"], row["speed"])[0] if row["said"] else None
        write_mulaw_wav(folder / row["file"], line(speech, row["noise"], bank, rng,
                                                   seconds=float(rng.uniform(1.5, 3.0))))
    columns = ["file", "said", "expected", "kind", "voice", "speed", "noise", "syllables"]
    with open(folder / "labels.tsv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    (folder / "menu.txt").write_text("\n".join(part.menu) + "\n", encoding="utf-8")
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "speech_set")
    parser.add_argument("--part", choices=sorted(PARTS), action="append")
    args = parser.parse_args()
    for name in args.part or sorted(PARTS):
        count = make_part(PARTS[name], args.out)
        print(f"{args.out / name}: {count} utterances")


if __name__ == "__main__":
    main()
