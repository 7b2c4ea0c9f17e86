"""The vocabulary of flow file fields: each type checks and converts a YAML value, and describes itself.

One description serves three readers: the loader (convert, with problems in one format), editors
(`json_schema`, JSON Schema draft 2020-12) and staff reading docs/flow-reference.md (`label`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Callable

from ivr.engine.emergency import is_emergency_number
from ivr.flows.listening import LONGEST_PROMPT_SECONDS, SPEAKING_RATE, prompt_seconds
from ivr.flows.model import Prompt
from ivr.flows.yamlsource import Cursor
from ivr.hours import OpeningHours

INVALID = object()  # a value that was reported as a problem; whatever contains it is not built

DIGITS = tuple("0123456789")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")  # ITU-T E.164: "+", country code, at most 15 digits in all


def shown(value: Any) -> str:
    """A YAML value as a message shows it: text quoted, containers by their kind."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)


def did_you_mean(word: Any, choices: list[str] | tuple[str, ...]) -> str:
    """`; did you mean 'x'?` for a near match among choices, or ''."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def one_of(choices: tuple[str, ...] | list[str]) -> str:
    """`expected one of: a, b, c` with the choices sorted, as every message lists allowed values."""
    return "expected one of: " + ", ".join(sorted(choices))


class FieldType:
    """A kind of value a flow file may hold at some key."""

    label = "value"  # how docs/flow-reference.md names the type

    def convert(self, value: Any, at: Cursor) -> Any:
        """The model value, or INVALID after reporting what is wrong at `at`."""
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        """A JSON Schema fragment that accepts what convert accepts (as far as JSON Schema can say)."""
        raise NotImplementedError

    def expected(self) -> str:
        """What a wrong-type message says is expected, e.g. `expected an integer from 1 to 60`."""
        return f"expected {self.label}"

    def wrong(self, value: Any, at: Cursor) -> Any:
        """Report a wrong value with what was given and what is expected."""
        at.error(f"{self.expected()}, got {shown(value)}")
        return INVALID


class Text(FieldType):
    """A non-empty string, optionally matching a pattern (explained by `hint`)."""

    def __init__(self, label: str = "text", pattern: str | None = None, hint: str = ""):
        self.label, self.pattern, self.hint = label, pattern, hint

    def convert(self, value: Any, at: Cursor) -> Any:
        if not isinstance(value, str) or not value.strip():
            return self.wrong(value, at)
        if self.pattern and not re.fullmatch(self.pattern, value):
            at.error(f"{shown(value)} is not a valid {self.label}; {self.hint}")
            return INVALID
        return value

    def expected(self) -> str:
        return f"expected {self.label} (a non-empty string)"

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "minLength": 1}
        if self.pattern:
            schema["pattern"] = f"^(?:{self.pattern})$"
        return schema


class TemplateLine(Text):
    """One line of text that may use template variables like a prompt (a task topic)."""

    def convert(self, value: Any, at: Cursor) -> Any:
        value = super().convert(value, at)
        if value is not INVALID:
            at.collector.templates.append((value, at))
        return value


class NodeRef(Text):
    """The id of a node in the same flow; dangling references are reported once all nodes are known."""

    def __init__(self):
        super().__init__("node id")

    def convert(self, value: Any, at: Cursor) -> Any:
        value = super().convert(value, at)
        if value is not INVALID:
            at.collector.references.append((value, at))
        return value


class Phone(Text):
    """A phone number in E.164 form."""

    def __init__(self):
        super().__init__("phone number")

    def convert(self, value: Any, at: Cursor) -> Any:
        if isinstance(value, (str, int)) and not isinstance(value, bool) and is_emergency_number(str(value)):
            at.error(f"{shown(value)} is an emergency number: a call the hotline forwards would carry the line's "
                     "location, not the caller's; the emergency advice (globals.emergency.advice) tells callers "
                     "to hang up and dial it themselves")
            return INVALID
        if isinstance(value, str) and E164.match(value):
            return value
        at.error(f"expected an E.164 phone number like '+4930123456' (plus, country code, no spaces), got {shown(value)}")
        return INVALID

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": E164.pattern}


class Hours(Text):
    """Opening hours in the subset of OpenStreetMap syntax that ivr.hours understands."""

    def __init__(self):
        super().__init__("opening hours")

    def convert(self, value: Any, at: Cursor) -> Any:
        if not isinstance(value, str):
            return self.wrong(value, at)
        try:
            return OpeningHours.parse(value)
        except ValueError as exc:
            at.error(str(exc))
            return INVALID


class Integer(FieldType):
    """A whole number within bounds."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high
        self.label = f"integer {low}–{high}"

    def convert(self, value: Any, at: Cursor) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            return self.wrong(value, at)
        return value

    def expected(self) -> str:
        return f"expected an integer from {self.low} to {self.high}"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


class Boolean(FieldType):
    """true or false."""

    label = "true/false"

    def convert(self, value: Any, at: Cursor) -> Any:
        return value if isinstance(value, bool) else self.wrong(value, at)

    def expected(self) -> str:
        return "expected true or false"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


class Choice(FieldType):
    """One string out of a fixed list."""

    def __init__(self, choices: tuple[str, ...], what: str = "value"):
        self.choices, self.what = choices, what
        self.label = "one of: " + ", ".join(f"`{c}`" for c in choices)

    def convert(self, value: Any, at: Cursor) -> Any:
        if value in self.choices and isinstance(value, str):
            return value
        at.error(f"unknown {self.what} {shown(value)}; {one_of(self.choices)}{did_you_mean(value, self.choices)}")
        return INVALID

    def json_schema(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}


class Key(Choice):
    """A telephone key; YAML reads an unquoted 1 as a number, which we accept as the key "1"."""

    def __init__(self, choices: tuple[str, ...] = DIGITS, label: str = "digit `0`–`9`"):
        super().__init__(choices, "telephone key")
        self.label = label

    def convert(self, value: Any, at: Cursor) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9:
            value = str(value)
        return super().convert(value, at)

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [{"enum": list(self.choices)}, {"type": "integer", "minimum": 0, "maximum": 9}]}


class Words(FieldType):
    """A list of spoken words or phrases; `keywords` must have at least one."""

    def __init__(self, allow_empty: bool):
        self.allow_empty = allow_empty
        self.label = "list of words" if allow_empty else "non-empty list of words"

    def convert(self, value: Any, at: Cursor) -> Any:
        if isinstance(value, str):
            at.error(f"expected a list of words, got {shown(value)}; write [{value}]")
            return INVALID
        if not isinstance(value, list):
            return self.wrong(value, at)
        if not value and not self.allow_empty:
            at.error("is empty; give at least one word the caller can say")
            return INVALID
        words = [Text("word").convert(item, at / index) for index, item in enumerate(value)]
        return INVALID if INVALID in words else tuple(words)

    def expected(self) -> str:
        return "expected a list of words"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 0 if self.allow_empty else 1}


class OneOrMore(FieldType):
    """A string or a list of strings, converted to a tuple."""

    label = "text or list of texts"

    def convert(self, value: Any, at: Cursor) -> Any:
        items = value if isinstance(value, list) else [value]
        if not items:
            return self.wrong(value, at)
        texts = [Text().convert(item, at / index if isinstance(value, list) else at) for index, item in enumerate(items)]
        return INVALID if INVALID in texts else tuple(texts)

    def expected(self) -> str:
        return "expected a text or a non-empty list of texts"

    def json_schema(self) -> dict[str, Any]:
        text = {"type": "string", "minLength": 1}
        return {"anyOf": [text, {"type": "array", "items": text, "minItems": 1}]}


class PromptText(FieldType):
    """What the caller hears: a template string, or a list of them spoken with short pauses."""

    label = "prompt"

    def convert(self, value: Any, at: Cursor) -> Any:
        if isinstance(value, str):
            segments = [(value, at)]
        elif isinstance(value, list) and value:
            segments = [(item, at / index) for index, item in enumerate(value)]
        else:
            return self.wrong(value, at)
        for segment, place in segments:
            if not isinstance(segment, str) or not segment.strip():
                return self.wrong(segment, place)
        # Templates are checked once every node is read: a later node may declare variables they use.
        at.collector.templates.extend(segments)
        seconds = prompt_seconds([s for s, _ in segments])
        if seconds > LONGEST_PROMPT_SECONDS:
            at.warn(
                f"prompt takes about {seconds:.1f} s to speak (estimated at {SPEAKING_RATE} words per minute, "
                f"pauses included); keep it under {LONGEST_PROMPT_SECONDS} s"
            )
        return Prompt(tuple(s for s, _ in segments), at.where)

    def expected(self) -> str:
        return "expected a prompt (a text or a non-empty list of texts)"

    def json_schema(self) -> dict[str, Any]:
        return {"$ref": "#/$defs/prompt"}


PROMPT_SCHEMA = OneOrMore().json_schema()


@dataclass(frozen=True)
class FromDefaults:
    """A field default taken from the flow's `defaults` mapping."""

    name: str

    def __str__(self) -> str:
        return f"`defaults.{self.name}`"


@dataclass(frozen=True)
class Field:
    """One key of a mapping in a flow file."""

    name: str
    type: FieldType
    doc: str
    required: bool = False
    default: Any = None  # a value, or FromDefaults(...)
    attr: str | None = None  # the model attribute, where it differs from the YAML key

    @property
    def default_doc(self) -> str:
        """The default as the reference shows it."""
        if self.required:
            return "required"
        if isinstance(self.default, FromDefaults):
            return f"default {self.default}"
        return "optional" if self.default in (None, ()) else f"default `{self.default}`"


class Record(FieldType):
    """A mapping with known keys; `build(values, at)` turns the converted values into a model object."""

    def __init__(self, label: str, fields: tuple[Field, ...], build: Callable[[dict, Cursor], Any] | None = None):
        self.label, self.fields, self.build = label, fields, build

    def convert(self, value: Any, at: Cursor) -> Any:
        if not isinstance(value, dict):
            return self.wrong(value, at)
        names = [f.name for f in self.fields]
        ok = True
        for key in value:
            if key not in names:
                at.error(f"unknown key {shown(key)}; {one_of(names)}{did_you_mean(key, names)}", key=key)
                ok = False
        values: dict[str, Any] = {}
        for f in self.fields:
            if f.name in value:
                values[f.attr or f.name] = f.type.convert(value[f.name], at / f.name)
            elif f.required:
                at.error(f"missing required key '{f.name}' ({f.doc})")
                ok = False
            elif isinstance(f.default, FromDefaults):
                values[f.attr or f.name] = at.collector.settings["defaults"][f.default.name]
            else:
                values[f.attr or f.name] = f.default
        if not ok or INVALID in values.values():
            return INVALID
        return self.build(values, at) if self.build else values

    def expected(self) -> str:
        return f"expected a mapping ({self.label})"

    def json_schema(self) -> dict[str, Any]:
        properties = {}
        for f in self.fields:
            prop = {"description": f.doc, **f.type.json_schema()}
            if f.default not in (None, ()) and not isinstance(f.default, FromDefaults):
                prop["default"] = f.default
            properties[f.name] = prop
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        required = [f.name for f in self.fields if f.required]
        if required:
            schema["required"] = required
        return schema


class ListOf(FieldType):
    """A non-empty list of items of one type, converted to a tuple."""

    def __init__(self, item: FieldType):
        self.item = item
        self.label = f"list of {item.label}"

    def convert(self, value: Any, at: Cursor) -> Any:
        if not isinstance(value, list) or not value:
            return self.wrong(value, at)
        items = [self.item.convert(item, at / index) for index, item in enumerate(value)]
        return INVALID if INVALID in items else tuple(items)

    def expected(self) -> str:
        return f"expected a non-empty list ({self.label})"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.item.json_schema(), "minItems": 1}
