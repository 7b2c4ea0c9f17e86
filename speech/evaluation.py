"""Recognition figures on labelled WAV files, decided by the production media-stream session.

A folder holds WAV files (any rate; telephone audio is 8 kHz mu-law) and labels.tsv, a tab-separated
file with a header: `file`, `expected` (the menu phrase the caller meant, or `none`) and any other
columns (voice, noise, speed, ...), which the table is broken down by. Each file is sent as Twilio's
JSON media messages (base64 mu-law, 20 ms each, then "stop") to StreamSession.run, the code a live
call runs, and whatever that session would redirect the call to is the decision.
"""

from __future__ import annotations

import base64
import ctypes
import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from speech.audio import wav_to_frames

NONE = "none"
OUTCOMES = ("right", "wrong", "missed", "false accept", "correct reject")
LABELS_FILE = "labels.tsv"


class LabelsError(ValueError):
    """The labels file is missing or malformed (the message says what is wrong and what is allowed)."""


@dataclass(frozen=True)
class Labelled:
    """One labelled recording: where it is, what the caller meant, and its other columns."""

    path: Path
    expected: str  # the menu phrase, or "none"
    columns: dict = field(default_factory=dict)


def read_labels(folder: str | Path) -> list[Labelled]:
    """The rows of FOLDER/labels.tsv; errors name the file, the line and what is allowed."""
    folder = Path(folder)
    labels = folder / LABELS_FILE
    if not labels.is_file():
        raise LabelsError(f"{labels}: no labels file; expected a tab-separated {LABELS_FILE} with a header "
                          "line and at least the columns file and expected (a menu word or 'none')")
    with open(labels, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = {"file", "expected"} - set(reader.fieldnames or ())
        if missing:
            raise LabelsError(f"{labels}:1: missing column(s) {', '.join(sorted(missing))}; "
                              f"found: {', '.join(reader.fieldnames or ()) or 'nothing'}")
        rows = []
        for number, row in enumerate(reader, start=2):
            name, expected = (row.get("file") or "").strip(), (row.get("expected") or "").strip()
            if not name or not expected:
                raise LabelsError(f"{labels}:{number}: empty file or expected; expected is a menu word or 'none'")
            path = folder / name
            if not path.is_file():
                raise LabelsError(f"{labels}:{number}: no such WAV file: {path}")
            extra = {k: v for k, v in row.items() if k not in ("file", "expected") and k is not None}
            rows.append(Labelled(path, expected.lower(), extra))
    if not rows:
        raise LabelsError(f"{labels}: no rows below the header")
    return rows


def repeatable_decoding(seed: int = 16) -> None:
    """Make the next decoding repeatable: Vosk dithers its input with noise from the C library's rand().

    The Korean model's mfcc.conf leaves Kaldi's --dither at 1.0, so the same audio decodes a little
    differently each time (a posterior of 1.0 in one run, 0.7 in the next). Seeding rand() before each
    utterance makes every utterance decode the same whatever was decoded before it, so two rules
    compared on a set differ by the rules, not by chance.
    """
    ctypes.CDLL(None).srand(seed)


def twilio_messages(audio: list[bytes], call_sid: str = "CA" + "0" * 32, params: dict | None = None) -> list[str]:
    """The JSON text messages of one Twilio media stream: connected, start, one media per frame, stop."""
    sid = "MZ" + call_sid[2:]
    start = {"streamSid": sid, "accountSid": "AC" + "0" * 32, "callSid": call_sid, "tracks": ["inbound"],
             "customParameters": params or {},
             "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}
    messages = [{"event": "connected", "protocol": "Call", "version": "1.0.0"},
                {"event": "start", "sequenceNumber": "1", "streamSid": sid, "start": start}]
    messages += [{"event": "media", "sequenceNumber": str(i + 2), "streamSid": sid,
                  "media": {"track": "inbound", "chunk": str(i + 1), "timestamp": str(i * 20),
                            "payload": base64.b64encode(frame).decode()}} for i, frame in enumerate(audio)]
    messages.append({"event": "stop", "sequenceNumber": str(len(audio) + 2), "streamSid": sid,
                     "stop": {"accountSid": "AC" + "0" * 32, "callSid": call_sid}})
    return [json.dumps(message) for message in messages]


class ScriptedSocket:
    """A WebSocket whose peer has already sent a fixed list of messages (receive() as simple_websocket)."""

    def __init__(self, messages: Iterable[str]):
        self._messages = iter(messages)

    def receive(self, timeout=None):
        return next(self._messages, None)


def outcome(expected: str, decided: str | None) -> str:
    """right / wrong / missed for a menu phrase; false accept / correct reject for 'none'."""
    if expected == NONE:
        return "correct reject" if decided is None else "false accept"
    if decided is None:
        return "missed"
    return "right" if decided == expected else "wrong"


def evaluate(items: list[Labelled], decide: Callable[[list[bytes]], str | None]) -> list[tuple[Labelled, str | None]]:
    """Each item's decision: `decide` gets its 20 ms mu-law frames and returns the phrase chosen or None."""
    return [(item, decide(wav_to_frames(item.path))) for item in items]


def tally(results: Iterable[tuple[Labelled, str | None]]) -> Counter:
    """Counts of each outcome."""
    return Counter(outcome(item.expected, decided) for item, decided in results)


def summary(counts: Counter) -> dict:
    """The two figures the issue's targets are about: right of in-grammar, wrong-or-false of all."""
    in_grammar = counts["right"] + counts["wrong"] + counts["missed"]
    total = sum(counts.values())
    return {"right %": 100 * counts["right"] / in_grammar if in_grammar else float("nan"),
            "wrong-or-false %": 100 * (counts["wrong"] + counts["false accept"]) / total if total else float("nan")}


def table(results: list[tuple[Labelled, str | None]], by: Iterable[str] = ()) -> str:
    """A markdown table: all utterances, then one row per value of each `by` column."""
    lines = ["| group | n | " + " | ".join(OUTCOMES) + " | right % of in-grammar | wrong-or-false % of all |",
             "|---|---|" + "---|" * (len(OUTCOMES) + 2)]

    def add(name: str, subset: list) -> None:
        counts = tally(subset)
        figures = summary(counts)
        cells = " | ".join(str(counts[o]) for o in OUTCOMES)
        lines.append(f"| {name} | {len(subset)} | {cells} | {figures['right %']:.1f} | "
                     f"{figures['wrong-or-false %']:.1f} |")

    add("all", results)
    for column in by:
        values = sorted({item.columns.get(column, "") for item, _ in results}, key=_natural)
        for value in values:
            add(f"{column}={value}", [r for r in results if r[0].columns.get(column, "") == value])
    return "\n".join(lines)


def _natural(value: str):
    return (0, int(value), "") if value.isdigit() else (1, 0, value)
