"""End of speech from frame loudness, so a menu decides sooner than Vosk's own 0.5 s trailing-silence rule."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

# The Korean model's conf/model.conf sets --endpoint.rule2.min-trailing-silence=0.5 and vosk 0.3.45
# has no call to change it (vosk_recognizer_set_endpointer_delays came later), so Vosk alone needs
# half a second of silence before a result: more than the 300 ms the issue allows for a decision.
SPEECH_ABOVE_FLOOR_DB = 10.0  # a frame this much louder than the noise floor is speech
MIN_SPEECH_DB = 35.0  # ...and at least this loud (RMS ~56 of 32768, about -55 dBFS)
# ...and no more than this under the loudest frame of the utterance so far. A word's fading tail
# (espeak's decays for ~300 ms between -30 and -55 dBFS) is not speech any more; measured on the
# bench corpus, 25 dB keeps every stop closure inside a word shorter than 140 ms (docs/performance.md).
BELOW_PEAK_DB = 25.0
FLOOR_RISE_DB_PER_FRAME = 0.1  # the floor follows a louder room slowly (5 dB/s), speech barely moves it
MIN_SPEECH_FRAMES = 5  # 100 ms: shorter bursts are clicks, not words

# A line that is never quiet (a TV, a radio, people talking in the room) has a noise floor far under
# its loud moments: the floor follows the TV's pauses, so every sentence on the TV is "speech" and the
# decoder makes menu words of it. What tells the caller from the room is loudness: she speaks into the
# phone, the TV is across the room. The line's level is kept over the last seconds (quiet frames, and
# utterances that did not stand out, which were the room); an utterance stands out when its peak is
# LINE_MARGIN_DB over the LINE_PERCENTILE of that level when it began. Only an utterance that stands
# out may decide (MenuRecognizer), and its frames are left out of the line's level, so a caller's
# "um, ..." before the word does not raise the bar for the word. On a quiet line, or under steady
# noise, the line's loud moments are the hiss and any word stands out. Tuned on the evaluation set's
# dev part (docs/performance.md, "Not deciding on the TV: the line's level").
LINE_FRAMES = 150  # 3 s of line
LINE_PERCENTILE = 90.0  # the line's loud moments, not its pauses
LINE_MARGIN_DB = 9.0
# Less than 400 ms of line heard (the stream has just begun) is too little to know a TV's level: its
# first sentence would stand out of the line's first pause. Until then only a quiet line (most of it
# quieter than speech) lets an utterance stand out; on a loud line it is taken for the room. (400 ms,
# not more: the evaluation set has 500 ms of line before each word, and its soft start is heard ~80 ms
# early; a prompt gives a live call seconds.)
MIN_LINE_FRAMES = 20

# What push() says about the utterance after each 20 ms frame.
SILENCE = "silence"  # nothing heard yet: the audio is only worth keeping as pre-roll
SPEECH = "speech"  # a word is going on (or a pause too short to end it)
PAUSE = "pause"  # quiet long enough that the word may be over: finalise if the decoder agrees
END = "end"  # quiet long enough that the word is over whatever the decoder thinks
NOISE = "noise"  # a burst too short for a word, then quiet: forget it


class EndOfSpeech:
    """Tracks the noise floor and one utterance's peak; tells where a frame falls in the utterance."""

    def __init__(self, pause_frames: int = 6, end_frames: int = 10, line_margin_db: float | None = LINE_MARGIN_DB):
        self.pause_frames = pause_frames  # 120 ms: a likely end, checked against the partial result
        self.end_frames = end_frames  # 200 ms: longer than the pauses inside Korean words
        self.line_margin_db = line_margin_db  # None: every utterance stands out (no line level rule)
        self._floor: float | None = None
        self._line: deque[float] = deque(maxlen=LINE_FRAMES)  # recent levels of the line without the caller
        self._loud: list[float] = []  # the current utterance's speech frames
        self._line_level: float | None = None  # the line's level when the current utterance began
        self.stood_out = False  # whether the last utterance that ended rose clearly above the line
        self.room_utterances = 0  # how many did not: the room (a TV), not the caller
        self.reset()

    def push(self, level_db: float) -> str:
        """Take one frame's level (speech.audio.mulaw_level_db); the state of the utterance after it."""
        if self._floor is None or level_db < self._floor:
            self._floor = level_db
        else:
            self._floor += FLOOR_RISE_DB_PER_FRAME
        threshold = max(self._floor + SPEECH_ABOVE_FLOOR_DB, MIN_SPEECH_DB, self._peak - BELOW_PEAK_DB)
        if level_db > threshold:
            if not self._speech:
                self._line_level = self._level_of_line()
            self._loud.append(level_db)
            self._peak = max(self._peak, level_db)
            self._speech += 1
            self._quiet = 0
            return SPEECH
        self._line.append(level_db)
        if not self._speech:
            return SILENCE
        self._quiet += 1
        if self._speech < MIN_SPEECH_FRAMES:
            if self._quiet < self.end_frames:
                return SPEECH
            self.reset()
            return NOISE
        if self._quiet >= self.end_frames:
            self.reset()
            return END
        return PAUSE if self._quiet >= self.pause_frames else SPEECH

    def _level_of_line(self) -> float | None:
        """The line's loud moments so far; None on a line that has been quiet; inf while a loud line is new."""
        if len(self._line) >= MIN_LINE_FRAMES:
            return float(np.percentile(self._line, LINE_PERCENTILE))
        if not self._line or np.median(self._line) < MIN_SPEECH_DB:
            return None  # (the median: the soft start of a word just before the endpoint hears it is loud)
        return math.inf

    def stands_out(self) -> bool:
        """True when the current utterance's peak is clearly above the line's level before it (or no rule)."""
        if self.line_margin_db is None or self._line_level is None:
            return True
        return self._peak >= self._line_level + self.line_margin_db

    def out_of_line(self) -> bool:
        """Whether the utterance going on stands out so far, or (between utterances) the last one did."""
        return self.stands_out() if self._speech else self.stood_out

    def reset(self) -> None:
        """End the current utterance: note whether it stood out; if not, it was the room, part of the line."""
        if self._loud:
            self.stood_out = self.stands_out()
            if not self.stood_out:
                self.room_utterances += 1
                self._line.extend(self._loud)
        self._loud = []
        self._line_level = None
        self._speech = 0
        self._quiet = 0
        self._peak = 0.0
