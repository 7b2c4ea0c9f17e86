"""Menu recognition: one Vosk grammar recogniser per call and menu, fed with 8 kHz mu-law frames."""

from __future__ import annotations

import json
import logging
import math
from collections import deque
from dataclasses import dataclass

import soxr
import vosk

from speech.audio import FRAME_MS, TELEPHONE_RATE, mulaw_level_db, mulaw_to_pcm
from speech.endpoint import END, LINE_MARGIN_DB, NOISE, PAUSE, SILENCE, EndOfSpeech
from speech.fillers import menu_fillers, model_fillers
from speech.models import (
    MissingModelError,
    ModelRegistry,
    missing_words,
    model_sample_rate,
    phrase_words,
    unknown_token,
)

__all__ = [
    "Match",
    "MenuRecognizer",
    "MissingModelError",
    "ModelRegistry",
    "missing_words",
    "model_sample_rate",
]

log = logging.getLogger(__name__)

# How sure the decoder must be, as the share of its N best hypotheses (weighted by their scores) that
# make the same choice. Measured on the evaluation set's dev part (docs/performance.md, Speech): wrong
# choices often carry the whole weight (posterior 1.0), so above 0.7 little more is rejected.
MIN_POSTERIOR = 0.7
ALTERNATIVES = 10  # Vosk's SetMaxAlternatives: how many hypotheses the posterior is taken over


@dataclass(frozen=True)
class Match:
    """A menu phrase the caller said, with the decoder's posterior for that choice."""

    phrase: str
    confidence: float


class MenuRecognizer:
    """Decodes one caller's audio against one menu's phrases; returns a Match only when sure.

    fillers: "all" (spread over the model's syllables), "menu" (without those that sound like a menu
    word) or an explicit tuple; min_posterior: the N-best share a choice needs (with alternatives=0,
    the lowest word confidence instead); free_text: the model ignores grammars, match its transcript;
    line_margin_db: how far over the line's recent level an utterance must rise to decide (None: no such rule);
    decode_room: decode utterances that do not rise above the line too (they still cannot decide).
    """

    def __init__(
        self,
        model: vosk.Model,
        phrases: list[str],
        sample_rate: int = TELEPHONE_RATE,
        fillers: tuple[str, ...] | str = "all",
        min_posterior: float = MIN_POSTERIOR,
        alternatives: int = ALTERNATIVES,
        collapse_repeats: bool = True,
        free_text: bool = False,
        end_silence_ms: int | None = 200,
        pause_ms: int | None = 120,
        preroll_ms: int | None = 500,
        line_margin_db: float | None = LINE_MARGIN_DB,
        decode_room: bool = False,
    ):
        self.min_posterior = min_posterior
        self.collapse_repeats = collapse_repeats
        self.free_text = free_text
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
        if fillers == "menu":  # per menu: no filler sounds like one of its words (speech.fillers)
            fillers = menu_fillers(model, grammar)
        elif fillers == "all":
            fillers = model_fillers(model)
        # Fillers that are themselves menu words stay menu words.
        grammar += [w for w in fillers if w not in self._phrases]
        unknown = unknown_token(model)
        if unknown:
            grammar.append(unknown)
        # KaldiRecognizer(model, 8000) resamples to the model's rate itself; measured faster and more
        # accurate than our soxr resampling to 16 kHz (docs/performance.md), so 8000 is the default.
        if free_text:
            # A model that ignores grammars (speech.service) decodes freely; its text is matched below.
            self._recognizer = vosk.KaldiRecognizer(model, sample_rate)
        else:
            self._recognizer = vosk.KaldiRecognizer(model, sample_rate, json.dumps(grammar, ensure_ascii=False))
        self._alternatives = alternatives
        if alternatives:
            self._recognizer.SetMaxAlternatives(alternatives)
        else:
            self._recognizer.SetWords(True)
        self._resampler = (
            soxr.ResampleStream(TELEPHONE_RATE, sample_rate, 1, dtype="int16") if sample_rate != TELEPHONE_RATE else None
        )
        self._endpoint = None
        if end_silence_ms:
            self._endpoint = EndOfSpeech((pause_ms or end_silence_ms) // FRAME_MS, end_silence_ms // FRAME_MS,
                                         line_margin_db)
        self._finalise_on_pause = bool(pause_ms)
        # Vosk's cost per second is the same for silence and speech (its network runs on every frame),
        # and a caller listens to the prompt for seconds before answering. Until the endpoint hears
        # speech we keep only the last `preroll_ms` of audio and hand it to Vosk with the first loud frame,
        # so the decoder still sees the quiet before the word and the soft start of it. Measured on the
        # bench corpus: 500 ms decides as well as decoding everything (300 ms: one more miss).
        # On a line that is never quiet the same holds for the room's sounds: an utterance is decoded from
        # the frame it rises above the line (with the 500 ms before it), so a TV costs no decoding.
        self._preroll = deque(maxlen=preroll_ms // FRAME_MS) if preroll_ms and self._endpoint else None
        self._decode_room = decode_room

    @property
    def phrases(self) -> tuple[str, ...]:
        """The phrases in the grammar (phrases with unknown words are left out)."""
        return tuple(self._phrases.values())

    def feed_mulaw(self, frame: bytes) -> Match | None:
        """Decode one 20 ms frame of 8 kHz mu-law (the endpoint counts calls as frames); a Match when final."""
        state = self._endpoint.push(mulaw_level_db(frame)) if self._endpoint is not None else None
        samples = mulaw_to_pcm(frame)
        pcm = samples if self._resampler is None else self._resampler.resample_chunk(samples)
        if self._preroll is not None and (state == SILENCE or not (self._decode_room or self._endpoint.out_of_line())):
            # Quiet, or the room (a TV) no louder than the line has been: nothing the caller said yet,
            # and nothing that could decide (speech.endpoint), so the decoder need not hear it either.
            self._preroll.append(pcm.tobytes())
            return None
        audio = pcm.tobytes()
        if self._preroll:
            audio = b"".join(self._preroll) + audio
            self._preroll.clear()
        if self._recognizer.AcceptWaveform(audio):  # True: Vosk's own endpoint, result is final
            if self._endpoint is not None:
                self._endpoint.reset()
            return self._heard(self._recognizer.Result())
        if state == NOISE and self._preroll is not None:
            self._recognizer.Reset()  # a click: drop it and go back to waiting for speech
        elif state == END or (state == PAUSE and self._finalise_on_pause and self._partial_is_one_phrase()):
            if state == PAUSE:
                self._endpoint.reset()
            # FinalResult finalises the utterance and the recogniser starts a fresh one on the next frame.
            return self._heard(self._recognizer.FinalResult())
        return None

    def _partial_is_one_phrase(self) -> bool:
        """True when Vosk's best guess so far is exactly one menu phrase: then a short pause ends the word."""
        return json.loads(self._recognizer.PartialResult()).get("partial", "") in self._whole_phrases

    def finish(self) -> Match | None:
        """Flush what is still buffered (the menu timed out or the stream ended)."""
        if self._resampler is not None:
            tail = self._resampler.resample_chunk(mulaw_to_pcm(b""), last=True)
            self._recognizer.AcceptWaveform(tail.tobytes())
        if self._endpoint is not None:
            self._endpoint.reset()
        return self._heard(self._recognizer.FinalResult())

    def _heard(self, result_json: str) -> Match | None:
        """The decision on an utterance that ended, if it stood out of the line (speech.endpoint), else None."""
        if self._endpoint is not None and not self._endpoint.stood_out:
            return None  # the room (a TV across it), not the caller: whatever the decoder made of it
        return self._decide(result_json)

    def _choice(self, words: list[str]) -> str | None:
        """The menu phrase these decoded words are, or None (silence, fillers, <UNK>, two phrases)."""
        if self.free_text:
            # Free text: exactly one menu phrase somewhere in it ("äh einkauf bitte"), none other.
            text = f" {' '.join(words)} "
            found = {t for t in self._phrases if f" {t} " in text}
            found = {t for t in found if not any(o != t and f" {t} " in f" {o} " for o in found)}
            return self._phrases[found.pop()] if len(found) == 1 else None
        if self.collapse_repeats:
            # One word decoded twice in a row ("일 일"): a long vowel split in two, still one choice.
            words = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]
        return self._phrases.get(" ".join(words))

    def _decide(self, result_json: str) -> Match | None:
        """A Match only if the hypotheses that make this choice carry at least min_posterior of the weight."""
        result = json.loads(result_json)
        if not self._alternatives:
            words = result.get("result", [])
            phrase = self._choice([w["word"] for w in words])
            confidence = min((w["conf"] for w in words), default=0.0)
            return Match(phrase, confidence) if phrase is not None and confidence >= self.min_posterior else None
        hypotheses = result.get("alternatives", [])
        if not hypotheses:
            return None
        # Vosk's N-best scores are log-likelihoods (larger is better): their softmax is each
        # hypothesis's share of the evidence, and a choice's posterior is the sum over its hypotheses.
        scores = [h.get("confidence", 0.0) for h in hypotheses]
        top = max(scores)
        weights = [math.exp(score - top) for score in scores]
        choices = [self._choice(h.get("text", "").split()) for h in hypotheses]
        phrase = choices[0]
        if phrase is None:
            return None
        posterior = sum(w for w, c in zip(weights, choices) if c == phrase) / sum(weights)
        return Match(phrase, posterior) if posterior >= self.min_posterior else None
