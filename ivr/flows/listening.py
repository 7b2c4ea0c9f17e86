"""How long callers listen: a prompt's speaking time estimated from its text, and a menu's until its last option.

The estimate counts letters (a digit is spoken as a word of about four) and punctuation marks (espeak-ng
pauses at each) at the rate prompts are rendered at, so it does not depend on what happens to be
rendered. tests/flows/test_listening.py calibrates it against audio rendered by espeak-ng.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.flows.model import MenuNode, Option

SPEAKING_RATE = 150  # words per minute prompts are rendered at; espeak's 175 is quick for older callers
PAUSE_SECONDS = 1  # between the segments of a prompt (the Twilio adapter's <Pause length="1">)
# Fitted by least squares to espeak-ng's German and English voices at 150 words per minute over the
# 68 fixed prompts of the demo flows: per prompt within 18 % (5 % on average), per menu within 5 %.
# (Syllables fitted worse: espeak lingers on English consonant clusters that vowel groups do not see.)
SECONDS_PER_LETTER = 0.069
SECONDS_PER_MARK = 0.44
LETTERS_PER_DIGIT = 4  # "eins", "zwei", "four"
LETTERS_PER_VARIABLE = 10  # a value read from caller data, e.g. "Frau Becker"
LONGEST_MENU_SECONDS = 25  # older callers lose the first options of a longer menu before they may choose
LONGEST_PROMPT_SECONDS = 30

_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_MARK = re.compile(r"[,.:;!?]")
_VARIABLE = re.compile(r"\{\{.*?\}\}", re.S)
_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)


def speaking_seconds(text: str, rate: int = SPEAKING_RATE) -> float:
    """Seconds espeak-ng takes to speak one prompt segment at `rate` words per minute (templates estimated)."""
    variables = len(_VARIABLE.findall(text))
    plain = _TAG.sub(" ", _VARIABLE.sub(" ", text))
    letters = len(_LETTER.findall(plain)) + LETTERS_PER_DIGIT * len(_DIGIT.findall(plain))
    seconds = (letters + LETTERS_PER_VARIABLE * variables) * SECONDS_PER_LETTER + len(_MARK.findall(plain)) * SECONDS_PER_MARK
    return seconds * SPEAKING_RATE / rate


def prompt_seconds(segments: tuple[str, ...] | list[str], rate: int = SPEAKING_RATE) -> float:
    """A whole prompt: its segments and the pauses between them."""
    return sum(speaking_seconds(s, rate) for s in segments) + PAUSE_SECONDS * max(len(segments) - 1, 0)


@dataclass(frozen=True)
class Listening:
    """How long a caller listens to a menu before every option has been heard, in seconds."""

    speech: float
    pauses: float
    before_first_option: float  # the menu's own prompt and the pause after it

    @property
    def total(self) -> float:
        return self.speech + self.pauses


def menu_segments(menu: MenuNode, globals_: dict[str, Option]) -> tuple[list[str], list[str]]:
    """(introduction, announcements) as the engine speaks a menu: prompt; options, globals, closing."""
    announced = [o.say for o in (*menu.options, *globals_.values()) if o.say is not None]
    if menu.closing is not None:
        announced.append(menu.closing)
    return list(menu.prompt.segments), [s for prompt in announced for s in prompt.segments]


def menu_listening(menu: MenuNode, globals_: dict[str, Option], rate: int = SPEAKING_RATE) -> Listening:
    """The menu as a caller hears it the first time, every option announced (service or not)."""
    intro, announced = menu_segments(menu, globals_)
    intro_seconds = sum(speaking_seconds(s, rate) for s in intro)
    segments = len(intro) + len(announced)
    return Listening(
        speech=intro_seconds + sum(speaking_seconds(s, rate) for s in announced),
        pauses=PAUSE_SECONDS * max(segments - 1, 0),
        before_first_option=intro_seconds + PAUSE_SECONDS * len(intro),
    )
