"""What the kind registry tells the outside: the JSON Schema for editors and the Markdown flow reference."""

from __future__ import annotations

from typing import Any

from ivr.flows.kinds import (
    BRANCH,
    DEFAULTS,
    FLOW,
    FLOW_EXAMPLE,
    EMERGENCY_OPTION,
    GLOBAL_OPTION,
    GLOBALS,
    KINDS,
    OPTION,
    RETRY,
    TargetType,
    TestType,
)
from ivr.flows.templates import ALLOWED_FILTERS, ALLOWED_TESTS
from ivr.flows.variables import engine_variables
from ivr.flows.listening import LONGEST_MENU_SECONDS, LONGEST_PROMPT_SECONDS, PAUSE_SECONDS, SPEAKING_RATE
from ivr.flows.schema import (
    PROMPT_SCHEMA,
    FieldType,
    ListOf,
    PromptText,
    Record,
)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
REFERENCE_PATH = "docs/flow-reference.md"


def flow_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a flow file, for editors; `hausruf check` checks more than it can say."""
    node = {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": list(KINDS)}},
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": name}}, "required": ["kind"]},
                "then": {"$ref": f"#/$defs/{name}_node"},
            }
            for name in KINDS
        ],
    }
    definitions = {"prompt": PROMPT_SCHEMA, "node": node}
    for name, kind in KINDS.items():
        definitions[f"{name}_node"] = {"description": kind.description, **kind.record.json_schema()}
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "Hausruf call flow",
        "description": "A call flow of the Hausruf hotline; see docs/flow-reference.md.",
        **FLOW.json_schema(),
        "$defs": definitions,
    }


def _type_text(ftype: FieldType) -> str:
    """A type as the field tables show it; records and shared parts link to their own section."""
    if isinstance(ftype, ListOf):
        return f"list of {_type_text(ftype.item)}"
    if isinstance(ftype, Record):  # every record used as a field type has a section named by its label
        return f"[{ftype.label}](#{ftype.label.replace(' ', '-')})"
    for kind, anchor in ((PromptText, "prompt"), (TargetType, "target"), (TestType, "test")):
        if isinstance(ftype, kind):
            return f"[{ftype.label}](#{anchor})"
    return ftype.label


def _table(record: Record, skip: tuple[str, ...] = ()) -> list[str]:
    rows = ["| key | type | | meaning |", "| --- | --- | --- | --- |"]
    for f in record.fields:
        if f.name not in skip:
            rows.append(f"| `{f.name}` | {_type_text(f.type)} | {f.default_doc} | {f.doc} |")
    return rows + [""]


def _yaml(text: str) -> list[str]:
    return ["```yaml", text.rstrip("\n"), "```", ""]


def markdown_reference() -> str:
    """docs/flow-reference.md: every node kind with its description, fields and an example."""
    out = [
        "<!-- Generated from ivr/flows/kinds.py by `hausruf docs reference`; do not edit by hand. -->",
        "",
        "# Flow file reference",
        "",
        "A flow file is YAML: a format version, a name, a language, a start node, the global",
        "options and the nodes. `hausruf check` reports every problem as `path:line: message`;",
        "editors can complete and check keys with the JSON Schema from `hausruf schema`",
        "(for the YAML language server, save it and start the file with",
        "`# yaml-language-server: $schema=flow.schema.json`).",
        "",
        *_yaml(FLOW_EXAMPLE),
        "## The flow file",
        "",
        *_table(FLOW),
        "### defaults",
        "",
        *_table(DEFAULTS),
        "### globals",
        "",
        "Both `person` and `emergency` are required: every menu offers them, by key and by word,",
        "so a caller can always reach a person or the emergency path. No menu option may reuse",
        "their keys or keywords.",
        "",
        *_table(GLOBALS),
        "### global option",
        "",
        *_table(GLOBAL_OPTION),
        "### emergency option",
        "",
        "Like a global option, and it must say two things. `say` announces it in every menu. `advice`",
        "is spoken first whenever the emergency path starts (by key, by word, or by any `goto` to its",
        "node): tell callers in danger to hang up and dial 112 themselves. After the advice a `connect`",
        "may follow (e.g. to the home emergency call partner), but no flow may dial 110 or 112: a call",
        "the hotline forwards carries the location of its line, not the caller's.",
        "",
        *_table(EMERGENCY_OPTION),
        "## Node kinds",
        "",
        *(f"- [`{name}`](#{name}): {kind.description}" for name, kind in KINDS.items()),
        "",
    ]
    for name, kind in KINDS.items():
        out += [f"### {name}", "", kind.description, "", *_table(kind.record, skip=("kind",)), *_yaml(kind.example)]
    out += [
        "## Shared parts",
        "",
        "### prompt",
        "",
        "A text, or a list of texts spoken with short pauses between them. Prompts are Jinja2",
        "templates in a sandbox and may use these variables (`service` is the partner service the call",
        "is dealing with, after a `connect` to a service): " + ", ".join(f"`{n}`" for n in engine_variables().allowed()) + ".",
        "Filters: " + ", ".join(f"`{n}`" for n in ALLOWED_FILTERS) + "; tests: " + ", ".join(f"`{n}`" for n in ALLOWED_TESTS) + ".",
        "`hausruf check` reports any other variable, filter or test as an error. If a template still fails",
        "during a call (a value missing for one caller), the caller hears the prompt without that part.",
        f"A prompt longer than about {LONGEST_PROMPT_SECONDS} s gets a warning: older callers lose the thread of",
        f"long prompts. A menu gets one when callers listen longer than {LONGEST_MENU_SECONDS} s before they have",
        "heard every option (its prompt, every option's `say`, the globals' `say` and `closing`, with the",
        f"{PAUSE_SECONDS} s pauses between them). Both are estimated from the text at {SPEAKING_RATE} words per",
        "minute, the rate prompts are rendered at, so the result does not depend on what was rendered.",
        "",
        "### option",
        "",
        *_table(OPTION),
        "### retry",
        "",
        *_table(RETRY),
        "### branch",
        "",
        *_table(BRANCH),
        "### test",
        "",
        "A mapping with exactly one of these tests:",
        "",
        "| test | type | holds when |",
        "| --- | --- | --- |",
        *(f"| `{k}` | {t.label} | {TestType.DOCS[k]} |" for k, t in TestType.TESTS.items()),
        "",
        "### target",
        "",
        "`staff`, `volunteers` (the caller's house volunteers), `{service: KIND}` (the partner",
        "of that service kind serving the caller's area) or `{number: \"+4930123456\"}` (E.164).",
        "",
    ]
    return "\n".join(out)
