"""The registry of node kinds, and the shape of a whole flow file, built from the field vocabulary.

Each kind has a name, a one-line description, a YAML example and a Record of fields whose build
function makes the model node. The loader, `hausruf schema` and docs/flow-reference.md all read this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.flows.checker import check_globals, check_menu
from ivr.flows.model import (
    AUDIENCES,
    FORMAT_VERSION,
    SERVICE_KINDS,
    TEST_KINDS,
    Branch,
    CallbackNode,
    ConditionNode,
    ConnectNode,
    GotoNode,
    HangupNode,
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
    }
    DOCS = {
        "known": "the caller's number is in the directory",
        "house": "the caller lives in this house (an id, or a list of ids)",
        "region": "the caller's house is in this region (an id, or a list of ids)",
        "language": "the caller's language is this one (or one of these)",
        "hours": "now is within these opening hours, e.g. `Mo-Fr 08:00-18:00; PH off`",
        "service_available": "a partner of this service kind serves the caller's area",
        "service_open": "that partner serves the caller's area and is open now",
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


def _check_connect(node: ConnectNode, at: Cursor) -> None:
    for name in ("unavailable", "closed"):
        if getattr(node, name) is not None and node.target.kind != "service":
            at.error(f"'{name}' is only for a service target; this target is '{node.target.kind}'", key=name)


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
            ),
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
