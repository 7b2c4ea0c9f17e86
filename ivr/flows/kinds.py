"""The registry of node kinds, and the shape of a whole flow file, built from the field vocabulary.

Each kind has a name, a one-line description, a YAML example and a Record of fields whose build
function makes the model node. The loader, `hausruf schema` and docs/flow-reference.md all read this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.flows.checker import check_ask, check_globals, check_menu
from ivr.flows.model import (
    AUDIENCES,
    MATCH_CRITERIA,
    MAX_NEWS_DAYS,
    MAX_NEWS_MESSAGES,
    AGAIN_KEY,
    CANCEL_KEY,
    SEND_KEY,
    AskNode,
    Choice as AskChoice,
    MatchNode,
    NumberEntry,
    SendDetailsNode,
    FORMAT_VERSION,
    SERVICE_KINDS,
    TEST_KINDS,
    Branch,
    CallbackNode,
    ConditionNode,
    ConnectNode,
    GotoNode,
    HangupNode,
    HouseMessageNode,
    HouseNewsNode,
    MenuNode,
    MessageNode,
    Option,
    Retry,
    SayNode,
    Target,
    Test,
)
from ivr.flows.schema import (
    DIGITS,
    INVALID,
    Boolean,
    Choice,
    Field,
    FieldType,
    FromDefaults,
    Hours,
    Integer,
    Key,
    ListOf,
    NodeRef,
    OneOrMore,
    Phone,
    PromptText,
    Record,
    TemplateLine,
    Text,
    Words,
    did_you_mean,
    one_of,
    shown,
)
from ivr.flows.yamlsource import Cursor

SERVICE = Choice(SERVICE_KINDS, "service kind")
AUDIENCE = Choice(AUDIENCES, "audience")
PROMPT = PromptText()
NODE_ID_PATTERN = "[A-Za-z0-9_-]+"
NODE_ID = Text("node id", NODE_ID_PATTERN, "use letters, digits, '-' and '_'")
ANSWER_NAME = Text("answer name", "[a-z][a-z0-9_]*", "use lowercase letters, digits and '_', like 'town'")


class AnswerValue(FieldType):
    """What a choice stores: a text, or a list of texts (empty for 'none of these')."""

    label = "text or list of texts"

    def convert(self, value: Any, at: Cursor) -> Any:
        if isinstance(value, list):
            texts = [Text().convert(item, at / index) for index, item in enumerate(value)]
            return INVALID if INVALID in texts else tuple(texts)
        return Text().convert(value, at)

    def json_schema(self) -> dict[str, Any]:
        text = {"type": "string", "minLength": 1}
        return {"anyOf": [text, {"type": "array", "items": text}]}


class AnswerTest(FieldType):
    """`{town: siegen}`: the answer has this value (or one of these; a list answer contains it)."""

    label = "mapping of one answer name to its value"

    def convert(self, value: Any, at: Cursor) -> Any:
        if not isinstance(value, dict) or len(value) != 1:
            return self.wrong(value, at)
        (name, expected), = value.items()
        name = ANSWER_NAME.convert(name, at / name)
        expected = OneOrMore().convert(expected, at / str(name))
        return INVALID if INVALID in (name, expected) else (name, expected)

    def expected(self) -> str:
        return "expected a mapping of one answer name to its value, e.g. {consent: 'yes'}"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "minProperties": 1, "maxProperties": 1,
                "additionalProperties": OneOrMore().json_schema()}


class TargetType(FieldType):
    """Whom a connect node dials: `staff`, `volunteers`, `{service: KIND}` or `{number: "+49..."}`."""

    label = "target"
    NAMED = ("staff", "volunteers")
    MAPPED = {"service": SERVICE, "number": Phone()}

    def convert(self, value: Any, at: Cursor) -> Any:
        if isinstance(value, str) and value in self.NAMED:
            return Target(value, None, at.where)
        if isinstance(value, dict) and len(value) == 1:
            (kind, inner), = value.items()
            if kind in self.MAPPED:
                converted = self.MAPPED[kind].convert(inner, at / kind)
                return INVALID if converted is INVALID else Target(kind, converted, at.where)
        return self.wrong(value, at)

    def expected(self) -> str:
        return "expected staff, volunteers, {service: KIND} or {number: '+49...'}"

    def json_schema(self) -> dict[str, Any]:
        return {
            "anyOf": [
                {"enum": list(self.NAMED)},
                *(
                    {"type": "object", "properties": {k: t.json_schema()}, "required": [k], "additionalProperties": False}
                    for k, t in self.MAPPED.items()
                ),
            ]
        }


class TestType(FieldType):
    """One condition of a branch, a mapping with exactly one test: `{known: true}`, `{hours: "..."}`..."""

    label = "test"
    TESTS: dict[str, FieldType] = {
        "known": Boolean(),
        "house": OneOrMore(),
        "region": OneOrMore(),
        "language": OneOrMore(),
        "hours": Hours(),
        "service_available": SERVICE,
        "service_open": SERVICE,
        "answer": AnswerTest(),
        "house_chat": Boolean(),
    }
    DOCS = {
        "known": "the caller's number is in the directory",
        "house": "the caller lives in this house (an id, or a list of ids)",
        "region": "the caller's house is in this region (an id, or a list of ids)",
        "language": "the caller's language is this one (or one of these)",
        "hours": "now is within these opening hours, e.g. `Mo-Fr 08:00-18:00; PH off`",
        "service_available": "a partner of this service kind serves the caller's area",
        "service_open": "that partner serves the caller's area and is open now",
        "answer": "an answer of the call has this value, e.g. `{answer: {consent: 'yes'}}` (an `ask` node must store it first)",
        "house_chat": "the caller opted in to the house chat by phone and their house has a chat room",
    }
    def convert(self, value: Any, at: Cursor) -> Any:
        if not isinstance(value, dict) or len(value) != 1:
            return self.wrong(value, at)
        (kind, inner), = value.items()
        if kind not in self.TESTS:
            at.error(f"unknown test {shown(kind)}; {one_of(TEST_KINDS)}{did_you_mean(kind, TEST_KINDS)}", key=kind)
            return INVALID
        converted = self.TESTS[kind].convert(inner, at / kind)
        return INVALID if converted is INVALID else Test(kind, converted, at.where)

    def expected(self) -> str:
        return "expected a mapping with one test, e.g. {known: true}"

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {k: {"description": self.DOCS[k], **t.json_schema()} for k, t in self.TESTS.items()},
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
        }


def _option_fields(label_required: bool, extra: tuple[Field, ...] = (), say: Field | None = None) -> tuple[Field, ...]:
    """Fields of menu options and global options; they differ in whether a label is required, and in extras."""
    return (
        Field("key", Key(), "the telephone key that picks it", required=True),
        Field("label", Text(), "a short name for logs and the simulator (a global's default: its name)", required=label_required),
        Field("keywords", Words(allow_empty=False), "words the caller can say to pick it", required=True),
        Field("synonyms", Words(allow_empty=True), "more words that pick it", default=()),
        say or Field("say", PROMPT, "how the option is announced after the menu prompt"),
        *extra,
        Field("goto", NodeRef(), "the node it leads to", required=True),
    )


OPTION = Record(
    "option",
    _option_fields(
        label_required=True,
        extra=(Field("service", SERVICE, "offer the option only where this service kind serves the caller"),),
    ),
    build=lambda v, at: Option(where=at.where, **v),
)
GLOBAL_OPTION = Record(
    "global option",
    _option_fields(label_required=False),
    build=lambda v, at: Option(where=at.where, **{**v, "label": v["label"] or str(at.keypath[-1])}),
)
EMERGENCY_OPTION = Record(
    "emergency option",
    _option_fields(
        label_required=False,
        say=Field("say", PROMPT, "how every menu announces it, e.g. \"Im Notfall: die 9.\"", required=True),
        extra=(Field("advice", PROMPT, "spoken first whenever the emergency path starts, before its `goto` node "
                     "does anything: what to do in danger (hang up and dial 112: a call the hotline forwards "
                     "carries the line's location, not the caller's)", required=True),),
    ),
    build=lambda v, at: Option(where=at.where, **{**v, "label": v["label"] or str(at.keypath[-1])}),
)
RETRY = Record(
    "retry",
    (
        Field("retries", Integer(0, 5), "how often to ask again", default=FromDefaults("retries")),
        Field("prompt", PROMPT, "said before asking again"),
        Field("then", NodeRef(), "where to go when the retries are used up", required=True),
    ),
    build=lambda v, at: Retry(where=at.where, **v),
)
CHOICE = Record(
    "choice",
    (
        Field("key", Key(), "the telephone key that picks it", required=True),
        Field("value", AnswerValue(), "what is stored as the answer (a list for several, `[]` for none)", required=True),
        Field("keywords", Words(allow_empty=False), "words the caller can say to pick it", required=True),
        Field("synonyms", Words(allow_empty=True), "more words that pick it", default=()),
        Field("say", PROMPT, "how the choice is announced after the question"),
    ),
    build=lambda v, at: AskChoice(where=at.where, **v),
)
NUMBER = Record(
    "number entry",
    (
        Field("min", Integer(0, 999999), "the smallest number accepted", required=True, attr="low"),
        Field("max", Integer(0, 999999), "the largest number accepted", required=True, attr="high"),
    ),
    build=lambda v, at: NumberEntry(where=at.where, **v),
)
CRITERIA = Record(
    "criteria",
    tuple(Field(name, ANSWER_NAME, doc) for name, doc in zip(MATCH_CRITERIA, (
        "answer naming the region (a region id, or `any`): hard need",
        "answer naming the kind of living (multi_generation, seniors, shared_flat, cooperative): ranks higher",
        "answer listing needed features (step_free, care, lift ...): hard needs",
        "answer listing wished-for features (garden, pets ...): rank higher",
        "answer with the monthly budget in euros (or a band low/medium/high): hard need",
        "answer `soon` (a flat must be free) or `later` (an open waiting list will do): hard need",
    ))),
    build=lambda v, at: {k: val for k, val in v.items() if val is not None},
)
BRANCH = Record(
    "branch",
    (
        Field("if", TestType(), "the test", required=True, attr="test"),
        Field("goto", NodeRef(), "where to go when the test holds", required=True),
    ),
    build=lambda v, at: Branch(where=at.where, **v),
)


@dataclass(frozen=True)
class NodeKind:
    """One kind of node: what it does, an example, and the record of its fields that builds the model node."""

    name: str
    description: str
    example: str
    record: Record


def _kind(name: str, description: str, example: str, model: type, fields: tuple[Field, ...], check=None) -> NodeKind:
    """A node kind whose record builds `model`, after an optional check of the built node."""

    def build(values: dict, at: Cursor) -> Any:
        values.pop("kind")
        node = model(id=at.node_id, where=at.where, **values)
        if check:
            check(node, at)
        return node

    kind_field = Field("kind", Choice((name,), "kind"), f"`{name}`", required=True)
    return NodeKind(name, description, example.strip() + "\n", Record(f"{name} node", (kind_field,) + fields, build))


def _check_menu(menu: MenuNode, at: Cursor) -> None:
    globals_ = at.collector.settings.get("globals")
    check_menu(menu, at, globals_ or {}, at.collector.settings.get("language", ""))


def _check_ask(node: AskNode, at: Cursor) -> None:
    if (node.number is None) == (not node.options):
        at.error("an ask node has either 'options' (a choice) or 'number' (a number ended with #), not both or none")
        return
    # Templates may read the answer as answers.<name> (checked against what the asks declare).
    declared = at.collector.declared
    declared["answers"] = tuple(sorted(set(declared.get("answers", ())) | {node.answer}))
    check_ask(node, at, at.collector.settings.get("globals") or {}, at.collector.settings.get("language", ""))


def _check_callback(node: CallbackNode, at: Cursor) -> None:
    if node.audience == "project" and node.consent is None:
        at.error("a callback for a project passes the caller's answers on: name the answer that holds the "
                 "caller's consent in 'consent'")
    if node.audience != "project":
        for name in ("consent", "no_consent"):
            if getattr(node, name) is not None:
                at.error(f"'{name}' is only for 'for: project'", key=name)


def _check_match(node: MatchNode, at: Cursor) -> None:
    if not node.criteria:
        (at / "criteria").error(f"name at least one answer to match by; allowed: {', '.join(MATCH_CRITERIA)}")


def _check_connect(node: ConnectNode, at: Cursor) -> None:
    for name in ("unavailable", "closed"):
        if getattr(node, name) is not None and node.target.kind != "service":
            at.error(f"'{name}' is only for a service target; this target is '{node.target.kind}'", key=name)


def _check_house_message(node: HouseMessageNode, at: Cursor) -> None:
    """The read-back answers to 1, 2, 3 and `*` (repeat): a global on one of them could never be reached there."""
    for name, option in (at.collector.settings.get("globals") or {}).items():
        if getattr(option, "key", None) in (SEND_KEY, AGAIN_KEY, CANCEL_KEY, "*"):
            at.error(f"the read-back answers to {SEND_KEY} (send), {AGAIN_KEY} (again), {CANCEL_KEY} (cancel) and * "
                     f"(repeat), but global '{name}' uses key '{option.key}'; give '{name}' another key")


KINDS: dict[str, NodeKind] = {
    kind.name: kind
    for kind in (
        _kind(
            "say",
            "Speak a prompt, then go on.",
            """
welcome:
  kind: say
  prompt: "Guten Tag{% if caller.known %}, {{ caller.salutation }}{% endif %}. Hier ist der Hausruf."
  next: main_menu
""",
            SayNode,
            (
                Field("prompt", PROMPT, "what the caller hears", required=True),
                Field("next", NodeRef(), "the node that follows", required=True),
            ),
        ),
        _kind(
            "menu",
            "Offer choices by key and by spoken word; handles no input, no match and the repeat key.",
            """
main_menu:
  kind: menu
  prompt: "Wie können wir helfen?"
  options:
    - key: "1"
      label: Einkauf
      keywords: [einkauf]
      synonyms: [einkaufen, lebensmittel]
      say: "Für den Einkaufsdienst drücken Sie die 1 oder sagen Sie: Einkauf."
      service: groceries
      goto: groceries
    - key: "2"
      label: IT-Hilfe
      keywords: [computer]
      synonyms: [handy, internet]
      say: "Für Hilfe mit Computer oder Handy drücken Sie die 2."
      goto: it_help
  no_input: {prompt: "Ich habe nichts gehört.", then: person}
  no_match: {retries: 1, prompt: "Das habe ich nicht verstanden.", then: person}
""",
            MenuNode,
            (
                Field("prompt", PROMPT, "the question; the options' `say` follow it", required=True),
                Field("options", ListOf(OPTION), "the choices (the globals person and emergency are added)", required=True),
                Field("timeout", Integer(1, 60), "seconds to wait for a key or a word", default=FromDefaults("timeout")),
                Field("repeat_key", Key(DIGITS + ("*", "#"), "`*`, `#` or a digit"), "the key that repeats the menu", default="*"),
                Field("closing", PROMPT, "said last, after every option and the globals, e.g. how to hear it again"),
                Field("no_input", RETRY, "what to do when the caller says and presses nothing", required=True),
                Field("no_match", RETRY, "what to do when the key or word picks nothing", required=True),
            ),
            _check_menu,
        ),
        _kind(
            "connect",
            "Dial a partner service, staff, the house volunteers or a number; the callee hears a whisper first.",
            """
groceries:
  kind: connect
  target: {service: groceries}
  prompt: "Ich verbinde Sie mit dem Einkaufsdienst."
  whisper: "Ein Anruf über den Hausruf aus {{ caller.house_name }}."
  fallback: it_help
  unavailable: main_menu
  closed: main_menu
""",
            ConnectNode,
            (
                Field("target", TargetType(), "whom to dial", required=True),
                Field("prompt", PROMPT, "said to the caller before dialing"),
                Field("whisper", PROMPT, "said to the callee; default: the partner's own whisper"),
                Field("timeout", Integer(5, 120), "seconds to let it ring", default=FromDefaults("connect_timeout")),
                Field("fallback", NodeRef(), "where to go when busy, unanswered or failed", required=True),
                Field("unavailable", NodeRef(), "no partner serves the caller's area (service targets only)"),
                Field("closed", NodeRef(), "the partner is closed now (service targets only)"),
                Field("next", NodeRef(), "where to go after a completed call; default: hang up"),
            ),
            _check_connect,
        ),
        _kind(
            "callback",
            "Book a callback task for the house volunteers or staff, and confirm it to the caller.",
            """
it_help:
  kind: callback
  for: volunteers
  topic: IT-Hilfe
  prompt: "Ihre IT-Helferin ruft Sie bald zurück."
  next: goodbye
""",
            CallbackNode,
            (
                Field("for", AUDIENCE, "who calls back", required=True, attr="audience"),
                Field("topic", TemplateLine(), "what the task is about, as the SMS names it (may use variables)", required=True),
                Field("prompt", PROMPT, "the confirmation the caller hears"),
                Field("next", NodeRef(), "the node that follows", required=True),
                Field("consent", ANSWER_NAME, "`for: project` only: the answer that must be `yes` (consent to pass "
                                              "the caller's answers on to the project)"),
                Field("no_consent", NodeRef(), "`for: project` only: where to go without that consent; default: `next`"),
            ),
            _check_callback,
        ),
        _kind(
            "message",
            "Record a spoken message, transcribe it offline and attach it to a callback task.",
            """
leave_message:
  kind: message
  prompt: "Bitte sprechen Sie nach dem Ton. Wir rufen Sie zurück."
  for: staff
  topic: Nachricht
  max_seconds: 120
  next: goodbye
""",
            MessageNode,
            (
                Field("prompt", PROMPT, "said before the tone", required=True),
                Field("for", AUDIENCE, "who gets the task", required=True, attr="audience"),
                Field("topic", TemplateLine(), "what the task is about (may use variables)", required=True),
                Field("next", NodeRef(), "the node that follows", required=True),
                Field("max_seconds", Integer(5, 300), "longest recording", default=60),
                Field("no_input", NodeRef(), "where to go when nothing was recorded; default: `next`"),
            ),
        ),
        _kind(
            "condition",
            "Branch on the caller or the moment: the first branch whose test holds wins, else `else`.",
            """
route:
  kind: condition
  branches:
    - if: {known: false}
      goto: person
    - if: {hours: "Mo-Fr 08:00-18:00; PH off"}
      goto: main_menu
  else: leave_message
""",
            ConditionNode,
            (
                Field("branches", ListOf(BRANCH), "tests in order", required=True),
                Field("else", NodeRef(), "where to go when no test holds", required=True, attr="otherwise"),
            ),
        ),
        _kind(
            "ask",
            "Ask a question and store the answer under a name: a choice by key or spoken word, or a number typed "
            "on the keypad and ended with `#`. Prompts, conditions and match nodes read it as `answers.<name>`.",
            """
ask_town:
  kind: ask
  answer: town
  prompt: "In welchem Ort möchten Sie wohnen?"
  options:
    - {key: "1", value: siegen, keywords: [siegen], say: "Siegen: die 1."}
    - {key: "2", value: any, keywords: [egal], say: "Egal wo: die 2."}
  next: ask_budget
  no_input: {then: person}
  no_match: {then: person}
ask_budget:
  kind: ask
  answer: budget
  prompt: "Wie viel Miete können Sie höchstens zahlen? Tippen Sie den Betrag in Euro und dann die Raute. Einen Menschen erreichen Sie mit Stern und dann der 0, den Notfall mit Stern und dann der 9."
  number: {min: 100, max: 5000}
  next: goodbye
  no_input: {then: person}
  no_match: {prompt: "Bitte einen Betrag zwischen 100 und 5000 Euro.", then: person}
""",
            AskNode,
            (
                Field("answer", ANSWER_NAME, "the name the answer is stored under", required=True),
                Field("prompt", PROMPT, "the question; the choices' `say` follow it", required=True),
                Field("options", ListOf(CHOICE), "the choices (the globals person and emergency are added)", default=()),
                Field("number", NUMBER, "ask for a number ended with `#` instead; during it `*` then a global's key "
                                        "reaches that global, and the prompt must say so"),
                Field("next", NodeRef(), "the node that follows once the answer is stored", required=True),
                Field("timeout", Integer(1, 60), "seconds to wait for a key or a word", default=FromDefaults("timeout")),
                Field("repeat_key", Key(DIGITS + ("*", "#"), "`*`, `#` or a digit"), "the key that repeats the question (choices only)", default="*"),
                Field("closing", PROMPT, "said last, after every choice and the globals (choices only)"),
                Field("no_input", RETRY, "what to do when the caller says and presses nothing", required=True),
                Field("no_match", RETRY, "what to do when the key, word or number is not an answer", required=True),
            ),
            _check_ask,
        ),
        _kind(
            "match",
            "Rank the housing projects of the directory against the caller's answers (hard needs filter, wishes "
            "rank, ties go to free flats) and say the best three; when nothing fits, say so and what came closest.",
            """
ask_needs:
  kind: ask
  answer: needs
  prompt: "Brauchen Sie eine stufenlose Wohnung? Ja: die 1. Nein: die 2."
  options:
    - {key: "1", value: [step_free], keywords: [ja]}
    - {key: "2", value: [], keywords: [nein]}
  next: find
  no_input: {then: person}
  no_match: {then: person}
find:
  kind: match
  criteria: {needs: needs}
  prompt: "Diese Wohnprojekte passen zu Ihren Angaben."
  none_prompt: "Leider passt kein Wohnprojekt zu allen Ihren Angaben."
  found: goodbye
  none: person
""",
            MatchNode,
            (
                Field("criteria", CRITERIA, "which answer gives which criterion", required=True),
                Field("prompt", PROMPT, "said before the projects that fit"),
                Field("none_prompt", PROMPT, "said when nothing fits, before what came closest"),
                Field("consent", ANSWER_NAME, "the answer that must be `yes` before the caller's answers are stored; "
                                              "without it only an anonymous count is kept"),
                Field("found", NodeRef(), "where to go after the projects that fit", required=True),
                Field("none", NodeRef(), "where to go when nothing fits", required=True),
            ),
            _check_match,
        ),
        _kind(
            "send_details",
            "Send the details of the projects just named by SMS to the caller, if their number can receive SMS.",
            """
sms:
  kind: send_details
  prompt: "Die Angaben kommen gleich per SMS."
  next: goodbye
  no_sms: person
""",
            SendDetailsNode,
            (
                Field("prompt", PROMPT, "the confirmation the caller hears"),
                Field("next", NodeRef(), "the node that follows", required=True),
                Field("no_sms", NodeRef(), "where to go when the number cannot receive SMS (a landline) "
                                           "or no project was named", required=True),
            ),
        ),
        _kind(
            "house_news",
            "Read the newest messages of the caller's house chat room aloud (\"Neues aus dem Haus\"), with sender "
            "and day, answers to the caller first; links, pictures and files are described, not read. Needs the "
            "Matrix chat (README, Matrix), a house with `chat_room` and a tenant with `house_chat: true`.",
            """
house_news:
  kind: house_news
  prompt: "Neues aus dem Haus."
  messages: 5
  days: 7
  empty: "Im Hauschat gab es diese Woche nichts Neues."
  no_chat: "Den Hauschat gibt es für Sie am Telefon noch nicht. Das Büro richtet ihn gern ein."
  next: main_menu
""",
            HouseNewsNode,
            (
                Field("prompt", PROMPT, "said before the messages"),
                Field("messages", Integer(1, MAX_NEWS_MESSAGES), "how many messages at most (answers to the "
                                                                  "caller come on top)", default=5),
                Field("days", Integer(1, MAX_NEWS_DAYS), "only messages of the last so many days", default=7),
                Field("empty", PROMPT, "said when the room had nothing in those days", required=True),
                Field("no_chat", PROMPT, "said when the caller has no house chat (not opted in, or the house has "
                                         "no chat room)", required=True),
                Field("next", NodeRef(), "the node that follows", required=True),
                Field("unavailable", NodeRef(), "where to go after `no_chat`; default: `next`"),
            ),
        ),
        _kind(
            "house_message",
            "A message to the neighbours (\"Nachricht an die Nachbarn\"): the caller speaks after the tone, the "
            "message is transcribed offline and read back; 1 posts it to the house chat room as the hotline, "
            "marked as hers (\"Frau Becker (am Telefon): ...\") with the recording attached, 2 records again, 3 "
            "cancels. Nothing that is not confirmed is posted or kept. Needs what `house_news` needs.",
            """
house_message:
  kind: house_message
  prompt: "Sprechen Sie Ihre Nachricht an die Nachbarn nach dem Ton. Zum Schluss die Raute."
  wait: "Einen Moment bitte."
  heard: "Ich habe verstanden:"
  confirm: "Zum Senden die 1, zum neu Sprechen die 2, zum Abbrechen die 3."
  not_understood: "Das habe ich leider nicht verstanden. Zum neu Sprechen die 2, zum Abbrechen die 3."
  sent: "Ihre Nachricht ist im Hauschat."
  cancelled: "Die Nachricht ist gelöscht."
  no_chat: "Den Hauschat gibt es für Sie am Telefon noch nicht. Das Büro richtet ihn gern ein."
  next: main_menu
""",
            HouseMessageNode,
            (
                Field("prompt", PROMPT, "said before the tone", required=True),
                Field("wait", PROMPT, "said while the message is transcribed (again every few seconds)", required=True),
                Field("heard", PROMPT, "said before the transcript is read back", required=True),
                Field("confirm", PROMPT, f"said after the transcript: must offer {SEND_KEY} (send), {AGAIN_KEY} "
                                         f"(speak again) and {CANCEL_KEY} (cancel)", required=True),
                Field("not_understood", PROMPT, f"said when nothing could be understood (or not in time): must "
                                                f"offer {AGAIN_KEY} (speak again) and {CANCEL_KEY} (cancel)", required=True),
                Field("no_chat", PROMPT, "said when the caller has no house chat", required=True),
                Field("sent", PROMPT, "said once the caller confirmed (the worker posts it a moment later)"),
                Field("cancelled", PROMPT, "said when the caller cancelled (or did not answer the read-back)"),
                Field("next", NodeRef(), "where to go after the message was confirmed", required=True),
                Field("cancel", NodeRef(), "where to go after cancelling; default: `next`"),
                Field("no_input", NodeRef(), "where to go when nothing was recorded; default: `cancel`"),
                Field("unavailable", NodeRef(), "where to go after `no_chat`; default: `next`"),
                Field("max_seconds", Integer(5, 120), "longest recording", default=30),
                Field("timeout", Integer(1, 60), "seconds the read-back waits for a key", default=FromDefaults("timeout")),
                Field("retries", Integer(0, 5), "read-backs again without an answer before it counts as cancelled",
                      default=FromDefaults("retries")),
            ),
            _check_house_message,
        ),
        _kind(
            "goto",
            "Jump to another node.",
            """
back:
  kind: goto
  target: main_menu
""",
            GotoNode,
            (Field("target", NodeRef(), "the node to jump to", required=True),),
        ),
        _kind(
            "hangup",
            "Say goodbye (optional) and end the call.",
            """
goodbye:
  kind: hangup
  prompt: "Auf Wiederhören."
""",
            HangupNode,
            (Field("prompt", PROMPT, "the last words"),),
        ),
    )
}


class NodesType(FieldType):
    """The `nodes` mapping: node id -> node of a registered kind."""

    label = "mapping of node id to node"

    def convert(self, value: Any, at: Cursor) -> Any:
        if not isinstance(value, dict) or not value:
            return self.wrong(value, at)
        nodes = {}
        for node_id, node in value.items():
            here = at / node_id
            if NODE_ID.convert(node_id, here) is INVALID:
                nodes[node_id] = INVALID
            elif not isinstance(node, dict):
                here.error(f"expected a node (a mapping with a 'kind'), got {shown(node)}")
                nodes[node_id] = INVALID
            elif "kind" not in node:
                here.error(f"missing required key 'kind'; {one_of(tuple(KINDS))}")
                nodes[node_id] = INVALID
            elif not isinstance(node["kind"], str) or node["kind"] not in KINDS:
                kind = node["kind"]
                here.error(f"unknown kind {shown(kind)}; {one_of(tuple(KINDS))}{did_you_mean(kind, tuple(KINDS))}", key="kind")
                nodes[node_id] = INVALID
            else:
                nodes[node_id] = KINDS[node["kind"]].record.convert(node, here)
        return INVALID if INVALID in nodes.values() else nodes

    def expected(self) -> str:
        return "expected a non-empty mapping of node id to node"

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": f"^{NODE_ID_PATTERN}$"},
            "additionalProperties": {"$ref": "#/$defs/node"},
        }


class LanguageCode(Text):
    """The flow's language; kept for the menus' checks (repeat words are per language; nodes are read later)."""

    def __init__(self):
        super().__init__("language code", "[a-z]{2,3}", "use a language code like 'de' or 'en'")

    def convert(self, value: Any, at: Cursor) -> Any:
        value = super().convert(value, at)
        if value is not INVALID:
            at.collector.settings["language"] = value
        return value


class VersionType(FieldType):
    """The format version; only FORMAT_VERSION is understood."""

    label = f"`{FORMAT_VERSION}`"

    def convert(self, value: Any, at: Cursor) -> Any:
        if value == FORMAT_VERSION and not isinstance(value, bool):
            return value
        at.error(f"unsupported format version {shown(value)}; expected {FORMAT_VERSION}")
        return INVALID

    def json_schema(self) -> dict[str, Any]:
        return {"const": FORMAT_VERSION}


def _keep_defaults(values: dict, at: Cursor) -> dict:
    """Keep the flow's defaults for the node fields that fall back to them (nodes are read later)."""
    at.collector.settings["defaults"] = values
    return values


def _keep_globals(values: dict, at: Cursor) -> dict:
    """Check the two global options and keep them for the menus' clash checks (nodes are read later)."""
    check_globals(values, at, at.collector.settings.get("language", ""))
    at.collector.settings["globals"] = values
    return values


DEFAULTS = Record(
    "defaults",
    (
        Field("timeout", Integer(1, 60), "seconds a menu waits for input", default=10),
        Field("retries", Integer(0, 5), "how often a menu asks again", default=2),
        Field("connect_timeout", Integer(5, 120), "seconds a connect node lets it ring", default=30),
    ),
    build=_keep_defaults,
)
GLOBALS = Record(
    "globals",
    (
        Field("person", GLOBAL_OPTION, "the way to a person, offered in every menu", required=True),
        Field("emergency", EMERGENCY_OPTION, "the emergency path, offered in every menu", required=True),
    ),
    build=_keep_globals,
)
FLOW = Record(
    "flow",
    (
        Field("version", VersionType(), "format version of the file", required=True),
        Field("name", Text("flow name", "[a-z0-9][a-z0-9_-]*", "use lowercase letters, digits, '-' and '_'"), "the flow's name, e.g. `hotline`", required=True),
        Field("language", LanguageCode(), "language of the prompts and keywords", required=True),
        Field("start", NodeRef(), "the first node of a call", required=True),
        Field("defaults", DEFAULTS, "values nodes use when they do not set their own"),
        Field("globals", GLOBALS, "the person and emergency options, offered in every menu", required=True),
        Field("nodes", NodesType(), "the nodes, by id", required=True),
    ),
)
DEFAULT_SETTINGS = {f.name: f.default for f in DEFAULTS.fields}
FLOW_EXAMPLE = """\
version: 1
name: hotline
language: de
start: welcome
defaults: {timeout: 10, retries: 2}
globals:
  person: {key: "0", keywords: [mensch], synonyms: [person, mitarbeiter], goto: person}
  emergency:
    key: "9"
    keywords: [notfall]
    say: "Im Notfall drücken Sie die 9."
    advice: "Wenn Sie in Gefahr sind: Legen Sie auf und wählen Sie eins, eins, zwei."
    goto: emergency
nodes:
  welcome: {kind: say, prompt: "Guten Tag, hier ist der Hausruf.", next: main_menu}
  main_menu:
    kind: menu
    prompt: "Für Einkäufe drücken Sie die 1."
    options:
      - {key: "1", label: Einkauf, keywords: [einkauf], goto: groceries}
    no_input: {then: person}
    no_match: {then: person}
  groceries: {kind: connect, target: {service: groceries}, fallback: person}
  person: {kind: connect, target: staff, fallback: goodbye}
  emergency: {kind: connect, target: {service: home_emergency}, fallback: person}  # after the advice
  goodbye: {kind: hangup, prompt: "Auf Wiederhören."}
"""
