"""Menu recognition: one Vosk grammar recogniser per call and menu, fed with 8 kHz mu-law frames."""

from __future__ import annotations

import json
import logging
from collections import deque
from dataclasses import dataclass

import soxr
import vosk

from speech.audio import FRAME_MS, TELEPHONE_RATE, mulaw_level_db, mulaw_to_pcm
from speech.endpoint import END, NOISE, PAUSE, SILENCE, EndOfSpeech
from speech.fillers import model_fillers
from speech.models import (
    MissingModelError,
    ModelRegistry,
    missing_words,
    model_sample_rate,
    phrase_words,
    unknown_token,
)

__all__ = [
    "CONFIDENCE_THRESHOLD",
    "Match",
    "MenuRecognizer",
    "MissingModelError",
    "ModelRegistry",
    "missing_words",
    "model_sample_rate",
]

log = logging.getLogger(__name__)

# Lowest per-word "conf" (Vosk's MBR posterior from SetWords(True)) we act on. Measured on synthesised
# Korean (docs/performance.md): right matches score 1.0 except a few at 0.5-0.8; without fillers,
# out-of-grammar words scored 0.41-1.0. 0.7 drops the weakest third of those at the cost of ~1 in 16
# right matches; the fillers, not this threshold, do most of the rejecting.
CONFIDENCE_THRESHOLD = 0.7


@dataclass(frozen=True)
class Match:
    """A menu phrase the caller said, with the lowest confidence of its words."""

    phrase: str
    confidence: float


class MenuRecognizer:
    """Decodes one caller's audio against one menu's phrases; returns a Match only when sure."""

    def __init__(
        self,
        model: vosk.Model,
        phrases: list[str],
        sample_rate: int = TELEPHONE_RATE,
        fillers: tuple[str, ...] | None = None,
        threshold: float = CONFIDENCE_THRESHOLD,
        end_silence_ms: int | None = 200,
        pause_ms: int | None = 120,
        preroll_ms: int | None = 500,
    ):
        self.threshold = threshold
        dropped = missing_words(model, phrases)
        if dropped:
            # Vosk would drop the unknown word and keep the rest of the phrase: "관리 사뭇소" would match
            # a bare "관리". Leave such phrases out; `hausruf check` reports them to staff.
            log.warning("phrases with words missing from the model left out of the grammar: %s", dropped)
        usable = [p for p in phrases if phrase_words(p) and not set(phrase_words(p)) & set(dropped)]
        self._phrases = {" ".join(phrase_words(p)): p for p in usable}
        # A short pause may end "엘리베이터", but not when "엘리베이터 고장" is on the menu too.
        self._whole_phrases = {t for t in self._phrases if not any(o.startswith(f"{t} ") for o in self._phrases)}
        grammar = list(self._phrases)
        # Fillers that are themselves menu words stay menu words.
        grammar += [w for w in (model_fillers(model) if fillers is None else fillers) if w not in self._phrases]
        unknown = unknown_token(model)
        if unknown:
            grammar.append(unknown)
        # KaldiRecognizer(model, 8000) resamples to the model's rate itself; measured faster and more
        # accurate than our soxr resampling to 16 kHz (docs/performance.md), so 8000 is the default.
        self._recognizer = vosk.KaldiRecognizer(model, sample_rate, json.dumps(grammar, ensure_ascii=False))
        self._recognizer.SetWords(True)
        self._resampler = (
            soxr.ResampleStream(TELEPHONE_RATE, sample_rate, 1, dtype="int16") if sample_rate != TELEPHONE_RATE else None
        )
        self._endpoint = None
        if end_silence_ms:
            self._endpoint = EndOfSpeech((pause_ms or end_silence_ms) // FRAME_MS, end_silence_ms // FRAME_MS)
        self._finalise_on_pause = bool(pause_ms)
        # Vosk's cost per second is the same for silence and speech (its network runs on every frame),
        # and a caller listens to the prompt for seconds before answering. Until the endpoint hears
        # speech we keep only the last `preroll_ms` of audio and hand it to Vosk with the first loud frame,
        # so the decoder still sees the quiet before the word and the soft start of it. Measured on the
        # bench corpus: 500 ms decides as well as decoding everything (300 ms: one more miss).
        self._preroll = deque(maxlen=preroll_ms // FRAME_MS) if preroll_ms and self._endpoint else None

    @property
    def phrases(self) -> tuple[str, ...]:
        """The phrases in the grammar (phrases with unknown words are left out)."""
        return tuple(self._phrases.values())

    def feed_mulaw(self, frame: bytes) -> Match | None:
        """Decode one 20 ms frame of 8 kHz mu-law (the endpoint counts calls as frames); a Match when final."""
        state = self._endpoint.push(mulaw_level_db(frame)) if self._endpoint is not None else None
        samples = mulaw_to_pcm(frame)
        pcm = samples if self._resampler is None else self._resampler.resample_chunk(samples)
        if state == SILENCE and self._preroll is not None:
            self._preroll.append(pcm.tobytes())
            return None
        audio = pcm.tobytes()
        if self._preroll:
            audio = b"".join(self._preroll) + audio
            self._preroll.clear()
        if self._recognizer.AcceptWaveform(audio):  # True: Vosk's own endpoint, result is final
            if self._endpoint is not None:
                self._endpoint.reset()
            return self._decide(self._recognizer.Result())
        if state == NOISE and self._preroll is not None:
            self._recognizer.Reset()  # a click: drop it and go back to waiting for speech
        elif state == END or (state == PAUSE and self._finalise_on_pause and self._partial_is_one_phrase()):
            if state == PAUSE:
                self._endpoint.reset()
            # FinalResult finalises the utterance and the recogniser starts a fresh one on the next frame.
            return self._decide(self._recognizer.FinalResult())
        return None

    def _partial_is_one_phrase(self) -> bool:
        """True when Vosk's best guess so far is exactly one menu phrase: then a short pause ends the word."""
        return json.loads(self._recognizer.PartialResult()).get("partial", "") in self._whole_phrases

    def finish(self) -> Match | None:
        """Flush what is still buffered (the menu timed out or the stream ended)."""
        if self._resampler is not None:
            tail = self._resampler.resample_chunk(mulaw_to_pcm(b""), last=True)
            self._recognizer.AcceptWaveform(tail.tobytes())
        return self._decide(self._recognizer.FinalResult())

    def _decide(self, result_json: str) -> Match | None:
        """A Match only if the whole utterance is exactly one phrase and every word is confident."""
        words = json.loads(result_json).get("result", [])
        text = " ".join(word["word"] for word in words)
        phrase = self._phrases.get(text)
        # Anything else is no choice: silence, fillers or <UNK> (foreign speech, noise), a phrase
        # with something around it, or two phrases ("장보기 사람") where the caller was unsure.
        if phrase is None:
            return None
        confidence = min(word["conf"] for word in words)
        if confidence < self.threshold:
            return None
        return Match(phrase, confidence)

