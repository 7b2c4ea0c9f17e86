"""End of speech from frame loudness, so a menu decides sooner than Vosk's own 0.5 s trailing-silence rule."""

from __future__ import annotations

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

# What push() says about the utterance after each 20 ms frame.
SILENCE = "silence"  # nothing heard yet: the audio is only worth keeping as pre-roll
SPEECH = "speech"  # a word is going on (or a pause too short to end it)
PAUSE = "pause"  # quiet long enough that the word may be over: finalise if the decoder agrees
END = "end"  # quiet long enough that the word is over whatever the decoder thinks
NOISE = "noise"  # a burst too short for a word, then quiet: forget it


class EndOfSpeech:
    """Tracks the noise floor and one utterance's peak; tells where a frame falls in the utterance."""

    def __init__(self, pause_frames: int = 6, end_frames: int = 10):
        self.pause_frames = pause_frames  # 120 ms: a likely end, checked against the partial result
        self.end_frames = end_frames  # 200 ms: longer than the pauses inside Korean words
        self._floor: float | None = None
        self.reset()

    def push(self, level_db: float) -> str:
        """Take one frame's level (speech.audio.mulaw_level_db); the state of the utterance after it."""
        if self._floor is None or level_db < self._floor:
            self._floor = level_db
        else:
            self._floor += FLOOR_RISE_DB_PER_FRAME
        threshold = max(self._floor + SPEECH_ABOVE_FLOOR_DB, MIN_SPEECH_DB, self._peak - BELOW_PEAK_DB)
        if level_db > threshold:
            self._peak = max(self._peak, level_db)
            self._speech += 1
            self._quiet = 0
            return SPEECH
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

    def reset(self) -> None:
        """Forget the current utterance (the noise floor stays)."""
        self._speech = 0
        self._quiet = 0
        self._peak = 0.0
