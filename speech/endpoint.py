"""End of speech from frame energy, so a menu decides sooner than Vosk's own 0.5 s trailing-silence rule."""

from __future__ import annotations

import numpy as np

# The Korean model's conf/model.conf sets --endpoint.rule2.min-trailing-silence=0.5 and vosk 0.3.45
# has no call to change it (vosk_recognizer_set_endpointer_delays came later), so Vosk alone needs
# half a second of silence before a result: more than the 300 ms the issue allows for a decision.
SPEECH_ABOVE_FLOOR_DB = 10.0  # a frame this much louder than the noise floor is speech
MIN_SPEECH_DB = 35.0  # ...and at least this loud (RMS ~56 of 32768, about -55 dBFS)
FLOOR_RISE_DB_PER_FRAME = 0.1  # the floor follows a louder room slowly (5 dB/s), speech barely moves it
MIN_SPEECH_FRAMES = 5  # 100 ms: shorter bursts are clicks, not words


class EndOfSpeech:
    """Counts speech and quiet frames; says when speech was followed by enough quiet."""

    def __init__(self, quiet_frames: int = 10):
        self.quiet_frames = quiet_frames  # 10 frames of 20 ms: pauses inside Korean words are shorter
        self._floor: float | None = None
        self._speech = 0
        self._quiet = 0

    def push(self, samples: np.ndarray) -> bool:
        """Take one frame; True once, at the frame that completes speech plus the quiet after it."""
        level = 10 * np.log10(float(np.mean(np.square(samples, dtype=np.float64))) + 1.0)
        if self._floor is None or level < self._floor:
            self._floor = level
        else:
            self._floor += FLOOR_RISE_DB_PER_FRAME
        if level > max(self._floor + SPEECH_ABOVE_FLOOR_DB, MIN_SPEECH_DB):
            self._speech += 1
            self._quiet = 0
            return False
        self._quiet += 1
        if self._speech >= MIN_SPEECH_FRAMES and self._quiet >= self.quiet_frames:
            self.reset()
            return True
        if self._speech < MIN_SPEECH_FRAMES and self._quiet >= self.quiet_frames:
            self._speech = 0  # a click long ago does not count towards the next word
        return False

    def reset(self) -> None:
        """Forget the current utterance (the noise floor stays)."""
        self._speech = 0
        self._quiet = 0
