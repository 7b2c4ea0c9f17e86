"""Reading volunteers' SMS replies: short German or English words with a task number, typos forgiven.

Pure: text in, (intent, number) out. "ok 17", "OK17", "Ja, 17!", "übernehme #17", "erledigt 17",
"kann nicht 17", "no 17", "?" ... The task number is the number right after a command word; any
other number ("ok, ich rufe um 17 Uhr an") is ignored, because acting on the wrong task would text a
stranger's caller details to this helper. The number may be left out; the caller decides what that
means. Two different numbers after command words make the reply ambiguous: the caller asks back.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

INTENTS = ("accept", "done", "decline", "help", "unknown")

# Single words per intent; multi-word phrases are handled by NEGATIONS below.
WORDS = {
    "accept": ("ok", "okay", "okey", "oki", "jo", "ja", "j", "yes", "y", "yep", "nehme", "nehm", "übernehme",
               "uebernehme", "ubernehme", "übernommen", "mache", "machs", "mach", "take", "taking", "accept",
               "klar", "gerne", "gern", "sure", "👍"),
    "done": ("erledigt", "erl", "done", "fertig", "geschafft", "finished", "ferdig", "gemacht", "complete",
             "completed", "✅"),
    "decline": ("nein", "no", "n", "nee", "ne", "nö", "noe", "nope", "absage", "sorry", "leider", "decline",
                "cant", "cannot", "👎"),
    "help": ("hilfe", "help", "info", "?", "??", "hä", "wie"),
}
# "kann nicht", "geht nicht", "can not", "keine Zeit": a negation wins over any yes-word next to it.
NEGATIONS = ("nicht", "not", "keine", "kein", "nix")
# Words that may stand between a command word and its number: "keine Zeit 17", "ok Aufgabe 17".
FILLERS = ("zeit", "time", "aufgabe", "task", "nr", "nummer", "number", "auftrag")
MAX_DIGITS = 9  # a longer number is a phone number or a date, never a task
FUZZY_MIN_LENGTH = 4  # only longer words may carry a typo; "no" vs "ok" must never be confused

_LOOKUP = {word: intent for intent, words in WORDS.items() for word in words}


@dataclass(frozen=True)
class ParsedReply:
    """What a reply asks for, and which task (None: not given; ambiguous: more than one was named)."""

    intent: str
    number: int | None = None
    ambiguous: bool = False


def parse_reply(text: str) -> ParsedReply:
    """Understand a volunteer's reply; anything unclear is intent "unknown", never a guess at accept."""
    raw = unicodedata.normalize("NFC", text or "").strip().lower()
    raw = re.sub(r"(?<![^\W\d_])0k(?![^\W_])", "ok", raw)  # a zero typed for the letter o
    if not raw:
        return ParsedReply("unknown")
    words = _words(raw)
    named = _named_numbers(_tokens(raw))
    number = named[0] if len(named) == 1 else None
    if len(named) > 1:
        return ParsedReply(_main_intent(words, raw), None, ambiguous=True)
    return ParsedReply(_main_intent(words, raw), number)


def _main_intent(words: list[str], raw: str) -> str:
    if not words and "?" in raw:
        return "help"
    intents = {_intent(word) for word in words} - {None}
    if _negated(words):
        intents = (intents - {"accept"}) | {"decline"}
    # Precedence: a no beats everything, done beats accept ("ok erledigt 17" reports done).
    for intent in ("decline", "done", "accept"):
        if intent in intents:
            return intent
    if "help" in intents or "?" in raw:
        return "help"
    return "unknown"


def _tokens(raw: str) -> list[str]:
    """Words, numbers and the emoji we know, in order; punctuation and "#" dropped."""
    return re.findall(r"\d+|[^\W\d_]+|[👍👎✅]", raw)


def _named_numbers(tokens: list[str]) -> list[int]:
    """The distinct numbers that directly follow a command word (fillers like "Zeit" may stand between)."""
    named: list[int] = []
    for index, token in enumerate(tokens):
        if token.isdigit() or (_intent(token) is None and token not in NEGATIONS):
            continue
        following = index + 1
        while following < len(tokens) and tokens[following] in FILLERS:
            following += 1
        if following < len(tokens) and tokens[following].isdigit() and len(tokens[following]) <= MAX_DIGITS:
            value = int(tokens[following])
            if value not in named:
                named.append(value)
    return named


def _words(raw: str) -> list[str]:
    """Letters (and the emoji we know) as words; digits split off ("ok17" -> "ok")."""
    raw = re.sub(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)", " ", raw)
    found = re.findall(r"[^\W\d_]+|[👍👎✅]|\?+", raw)
    return [w for w in found if not w.startswith("?")]


def _intent(word: str) -> str | None:
    if word in _LOOKUP:
        return _LOOKUP[word]
    single = re.sub(r"(.)\1+", r"\1", word)  # a key held too long: "okk", "neinn", "jaaa"
    if single in _LOOKUP:
        return _LOOKUP[single]
    if len(word) < FUZZY_MIN_LENGTH:
        return None
    close = {intent for known, intent in _LOOKUP.items()
             if len(known) >= FUZZY_MIN_LENGTH and _distance(word, known) <= 1}
    return close.pop() if len(close) == 1 else None


def _negated(words: list[str]) -> bool:
    return any(w in NEGATIONS for w in words) or (
        "no" in words and any(_intent(w) == "accept" for w in words if w != "no"))


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance: one wrong, missing, extra or swapped letter counts 1."""
    if abs(len(a) - len(b)) > 1:
        return 2
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
