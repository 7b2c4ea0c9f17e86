"""The loaded form of a call flow: frozen dataclasses, each node and option with its file and line.

YAML shape (see docs/flow-reference.md for every kind):

    version: 1
    name: hotline
    language: de
    start: welcome
    defaults: {timeout: 10, retries: 2}
    globals:                      # reachable from every menu; both are required
      person:    {key: "0", keywords: [mensch], synonyms: [...], goto: person}
      emergency: {key: "9", keywords: [notfall], say: "Im Notfall: die 9.",
                  advice: "Legen Sie auf und wählen Sie 112.", goto: emergency}
    nodes:
      welcome: {kind: say, prompt: "Guten Tag, {{ caller.salutation }}.", next: main_menu}
      ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

FORMAT_VERSION = 1
AUDIENCES = ("volunteers", "staff", "project")  # project: the contact of the housing project matched last
TARGET_KINDS = ("service", "staff", "volunteers", "number")
TEST_KINDS = ("known", "house", "region", "language", "hours", "service_available", "service_open", "answer",
              "house_chat")
GLOBAL_NAMES = ("person", "emergency")
# Partner service kinds a cooperative can offer; flows, directory and routing share this list.
SERVICE_KINDS = ("groceries", "meals", "home_emergency", "home_care", "day_care")
# What a match node ranks by, each read from an answer of the call (see ivr/housing/ranking.py).
MATCH_CRITERIA = ("region", "kind", "needs", "wishes", "budget", "timing")
# The largest window a house_news node may ask for; the worker keeps no more of a house room than this.
MAX_NEWS_MESSAGES = 10
MAX_NEWS_DAYS = 31


@dataclass(frozen=True, order=True)
class Where:
    """A place in a flow file."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Prompt:
    """Text the caller hears: one or more segments (Jinja2 sandbox templates), spoken with pauses."""

    segments: tuple[str, ...]
    where: Where


@dataclass(frozen=True)
class Option:
    """One choice of a menu: a key, spoken words, and where it leads."""

    key: str
    label: str
    goto: str
    where: Where
    keywords: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    say: Prompt | None = None  # how the option is announced in the menu prompt
    service: str | None = None  # announced only when this service kind is available to the caller
    advice: Prompt | None = None  # emergency only: spoken first whenever the emergency path starts

    @property
    def phrases(self) -> tuple[str, ...]:
        """Every spoken form that picks this option."""
        return self.keywords + self.synonyms


@dataclass(frozen=True)
class Retry:
    """What a menu does on no input or no match: re-ask up to `retries` times, then go to `then`."""

    retries: int
    then: str
    where: Where
    prompt: Prompt | None = None


@dataclass(frozen=True)
class Target:
    """Whom a connect node dials: a partner service kind, staff, the house volunteers, or a number."""

    kind: str  # one of TARGET_KINDS
    value: str | None
    where: Where


@dataclass(frozen=True)
class Test:
    """One condition on the caller or the moment; value type depends on kind (see TEST_KINDS)."""

    kind: str
    value: Any  # bool for known; tuple[str, ...] for house/region/language; OpeningHours for hours; str for service_*
    where: Where


@dataclass(frozen=True)
class Branch:
    """If the test holds, go to goto."""

    test: Test
    goto: str
    where: Where


@dataclass(frozen=True)
class SayNode:
    """Speak a prompt, then go on."""

    id: str
    where: Where
    prompt: Prompt
    next: str


@dataclass(frozen=True)
class MenuNode:
    """Offer options by key and by word; handles no input, no match and repeat."""

    id: str
    where: Where
    prompt: Prompt
    options: tuple[Option, ...]
    timeout: int
    no_input: Retry
    no_match: Retry
    repeat_key: str | None = "*"
    closing: Prompt | None = None  # said last, after the options and the globals (e.g. how to repeat)


@dataclass(frozen=True)
class ConnectNode:
    """Dial a partner, staff, volunteers or a number, with a whisper and fallbacks."""

    id: str
    where: Where
    target: Target
    fallback: str  # busy, no answer, failed
    timeout: int = 30
    prompt: Prompt | None = None  # said to the caller before dialing
    whisper: Prompt | None = None  # said to the callee; defaults to the partner's own whisper
    unavailable: str | None = None  # no partner serves the caller's area (service targets)
    closed: str | None = None  # partner closed now (service targets)
    next: str | None = None  # after a completed call; default: hang up


@dataclass(frozen=True)
class CallbackNode:
    """Book a callback task for the house volunteers, staff or a housing project's contact, confirm to the caller."""

    id: str
    where: Where
    audience: str  # one of AUDIENCES
    topic: str
    prompt: Prompt | None
    next: str
    consent: str | None = None  # project: the answer that must be "yes" before the caller's answers are passed on
    no_consent: str | None = None  # project: where to go without that consent; default: next


@dataclass(frozen=True)
class Choice:
    """One choice of an ask node: a key, spoken words, and the value stored as the answer."""

    key: str
    value: str | tuple[str, ...]
    where: Where
    keywords: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    say: Prompt | None = None

    @property
    def label(self) -> str:
        return self.value if isinstance(self.value, str) else "+".join(self.value) or "-"

    @property
    def phrases(self) -> tuple[str, ...]:
        """Every spoken form that picks this choice."""
        return self.keywords + self.synonyms


@dataclass(frozen=True)
class NumberEntry:
    """A number typed on the keypad and ended with `#`, between low and high."""

    low: int
    high: int
    where: Where


@dataclass(frozen=True)
class AskNode:
    """Ask a question and store the answer: a choice by key or word, or a number typed and ended with `#`."""

    id: str
    where: Where
    answer: str  # the name it is stored under: {{ answers.<name> }}
    prompt: Prompt
    next: str
    timeout: int
    no_input: Retry
    no_match: Retry
    options: tuple[Choice, ...] = ()
    number: NumberEntry | None = None
    repeat_key: str | None = "*"
    closing: Prompt | None = None  # said last, after the choices and the globals (e.g. how to repeat)


@dataclass(frozen=True)
class MatchNode:
    """Rank the housing projects against the answers, say the best three (or what came closest)."""

    id: str
    where: Where
    criteria: dict[str, str]  # one of MATCH_CRITERIA -> answer name
    found: str
    none: str
    prompt: Prompt | None = None  # said before the projects
    none_prompt: Prompt | None = None  # said when nothing fits, before what came closest
    consent: str | None = None  # the answer that must be "yes" before the caller's answers are stored


@dataclass(frozen=True)
class SendDetailsNode:
    """Send the details of the projects just named by SMS, if the caller's number can receive one."""

    id: str
    where: Where
    prompt: Prompt | None
    next: str
    no_sms: str  # the number cannot receive SMS (a landline), or nothing was matched


@dataclass(frozen=True)
class MessageNode:
    """Record a spoken message and attach it to a callback task."""

    id: str
    where: Where
    prompt: Prompt
    audience: str
    topic: str
    next: str
    max_seconds: int = 60
    no_input: str | None = None  # nothing was recorded; default: next


@dataclass(frozen=True)
class ConditionNode:
    """Branch on caller facts or the moment: first branch whose test holds wins."""

    id: str
    where: Where
    branches: tuple[Branch, ...]
    otherwise: str


@dataclass(frozen=True)
class GotoNode:
    """Jump to another node."""

    id: str
    where: Where
    target: str


@dataclass(frozen=True)
class HangupNode:
    """Say goodbye (optional) and end the call."""

    id: str
    where: Where
    prompt: Prompt | None = None


@dataclass(frozen=True)
class HouseNewsNode:
    """Read the newest messages of the caller's house chat room aloud ("Neues aus dem Haus"), then go on."""

    id: str
    where: Where
    prompt: Prompt | None
    empty: Prompt  # said when the room had nothing in the window
    no_chat: Prompt  # said when the caller has no house chat (not opted in, or the house has no room)
    next: str
    messages: int = 5
    days: int = 7
    unavailable: str | None = None  # where to go after no_chat; default: next


# The read-back of a spoken message to the neighbours answers to these keys (the prompts say them).
SEND_KEY, AGAIN_KEY, CANCEL_KEY = "1", "2", "3"


@dataclass(frozen=True)
class HouseMessageNode:
    """Record a message to the house chat, transcribe it offline, read it back, post it only when confirmed."""

    id: str
    where: Where
    prompt: Prompt  # said before the tone
    wait: Prompt  # said while the message is transcribed ("Einen Moment bitte.")
    heard: Prompt  # said before the transcript ("Ich habe verstanden:")
    confirm: Prompt  # after the transcript: 1 sends, 2 records again, 3 cancels
    not_understood: Prompt  # nothing could be made of it: 2 records again, 3 cancels
    no_chat: Prompt  # the caller has no house chat
    next: str  # after the message was sent
    sent: Prompt | None = None
    cancelled: Prompt | None = None
    cancel: str | None = None  # after 3 (or no answer to the read-back); default: next
    no_input: str | None = None  # nothing was recorded; default: cancel
    unavailable: str | None = None  # after no_chat; default: next
    max_seconds: int = 30
    timeout: int = 10  # seconds the read-back waits for a key
    retries: int = 2  # read-backs again without an answer, before it counts as cancelled


Node = Union[SayNode, MenuNode, ConnectNode, CallbackNode, MessageNode, ConditionNode, GotoNode, HangupNode,
             AskNode, MatchNode, SendDetailsNode, HouseNewsNode, HouseMessageNode]


@dataclass(frozen=True)
class Flow:
    """A whole call flow in one language."""

    name: str
    language: str
    start: str
    nodes: dict[str, Node]
    globals: dict[str, Option]  # "person" and "emergency"
    where: Where
    revision: str  # hash of the file text: a call keeps the revision it started on
    text: str = field(default="", repr=False, compare=False)

    def node(self, node_id: str) -> Node:
        """The node with this id (KeyError if none: the checker makes that impossible)."""
        return self.nodes[node_id]

    @property
    def key(self) -> str:
        """Identifier of this flow among loaded flows: name and language."""
        return f"{self.name}:{self.language}"
