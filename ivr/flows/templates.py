"""Prompt templates: Jinja2 in its sandbox, so a flow file can read caller data but run nothing.

The checker (`template_problems`) walks a template's syntax tree and compares every variable, filter
and test with what the engine provides (see ivr/flows/variables.py); `render` is what a call uses,
and a template that still fails for one caller is spoken without its variable part, never dropped.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import re
import types
import typing
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

log = logging.getLogger("hausruf.templates")

# Filters and tests a prompt may use: enough to shape a name or a number, nothing that reaches further.
ALLOWED_FILTERS = (
    "capitalize", "default", "first", "int", "join", "last", "length", "lower", "replace", "round",
    "title", "trim", "upper",
)
ALLOWED_TESTS = (
    "defined", "divisibleby", "eq", "even", "false", "ge", "gt", "in", "le", "lt", "ne", "none",
    "number", "odd", "string", "true", "undefined",
)
_TEMPLATE_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def _environment(undefined) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=undefined, autoescape=False, trim_blocks=True)
    env.filters = {name: env.filters[name] for name in ALLOWED_FILTERS}
    env.tests = {name: env.tests[name] for name in ALLOWED_TESTS}
    env.globals = {}  # no range(), lipsum(), namespace(): a prompt reads variables, it does not compute
    return env


_env = _environment(StrictUndefined)
_lenient = _environment(ChainableUndefined)  # the fallback: a missing value renders as nothing


@lru_cache(maxsize=4096)
def _compiled(source: str, lenient: bool = False):
    return (_lenient if lenient else _env).from_string(source)


def render(source: str, variables: dict[str, Any], where: str = "") -> str:
    """Render a prompt; plain text without template syntax is returned as is (the common, fast case).

    A template that fails at run time (a value missing for this caller, a filter given a wrong
    type) is logged and spoken without its variable part, or as its plain text: a caller hears a
    slightly shorter sentence instead of being dropped to the apology.
    """
    if "{" not in source:
        return source
    try:
        return _tidy(_compiled(source).render(**variables))
    except Exception as exc:  # Jinja2's errors, the sandbox's SecurityError, a TypeError inside a filter
        text = _without_variables(source, variables)
        # The template and the error only: the rendered text may hold a caller's name.
        log.warning("prompt template at %s failed (%s: %s); spoken without it: %r",
                    where or "?", type(exc).__name__, exc, source)
        return text


def _without_variables(source: str, variables: dict[str, Any]) -> str:
    """The prompt with missing values left out, or with every template tag removed if even that fails."""
    try:
        return _tidy(_compiled(source, lenient=True).render(**variables))
    except Exception:  # noqa: BLE001 - any failure here falls back to the text around the tags
        return _tidy(_TEMPLATE_TAG.sub(" ", source))


def _tidy(text: str) -> str:
    """Single spaces, and no punctuation left dangling where a value was left out ("Tag, ." -> "Tag.")."""
    text = " ".join(text.split())
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"[,;:]+([.!?])", r"\1", text)
    text = re.sub(r"([,;:])[,;:]+", r"\1", text)
    return text.lstrip(",.;:!? ")


# -- checking ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Variables:
    """What templates may read: each name's type, and the keys a flow declares for mapping-typed names."""

    types: dict[str, Any]
    declared: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "types", {k: _unwrap_optional(t) for k, t in self.types.items()})

    def allowed(self) -> list[str]:
        """Every variable a template may use, as the messages list them (`caller.salutation`, `now`)."""
        names = []
        for name, type_ in sorted(self.types.items()):
            if _is_record(type_):
                names += [f"{name}.{f.name}" for f in dataclasses.fields(type_)]
            elif _is_mapping(type_):
                names += [f"{name}.{key}" for key in sorted(self.declared.get(name, ()))]
            else:
                names.append(name)
        return names

    def lookup(self, name: str, path: list[str]) -> int | None:
        """How many steps of `name.path...` are known: None when all are (or the type cannot tell), else the failing step."""
        type_ = self.types.get(name)
        for step, attribute in enumerate(path):
            if _is_record(type_):
                hints = _hints(type_)
                if attribute not in hints:
                    return step
                type_ = _unwrap_optional(hints[attribute])
            elif _is_mapping(type_):
                if attribute not in self.declared.get(name, ()):
                    return step
                type_ = None
            elif isinstance(type_, type):
                if attribute.startswith("_") or not hasattr(type_, attribute):
                    return step
                type_ = None  # a method or a plain value: what follows is not checked
            else:
                return None
        return None


def template_problems(source: str, variables: Variables) -> list[str]:
    """What is wrong with one template, each as `has a template syntax error: ...`, `uses unknown ...`."""
    if "{" not in source:
        return []
    try:
        parsed = _env.parse(source)
    except TemplateSyntaxError as exc:
        return [f"has a template syntax error: {exc.message}"]
    problems: list[str] = []
    # Names the template sets itself ({% set %}, {% for %}) are its own; every other name is a variable.
    own = {n.name for n in parsed.find_all(nodes.Name) if n.ctx in ("store", "param")}
    free = {n.name for n in parsed.find_all(nodes.Name) if n.ctx == "load"} - own
    allowed = variables.allowed()
    listed = ", ".join(allowed)
    reported: set[str] = set()

    def unknown_variable(dotted: str) -> None:
        if dotted in reported:
            return
        reported.add(dotted)
        # Compare the last part among its siblings: the shared `caller.` would make any field look close.
        parent, _, last = dotted.rpartition(".")
        siblings = {name.rpartition(".")[2]: name for name in allowed + list(variables.types)
                    if name.rpartition(".")[0] == parent}
        close = difflib.get_close_matches(last, list(siblings), n=1, cutoff=0.6)
        hint = f"did you mean '{siblings[close[0]]}'? " if close else ""
        problems.append(f"uses unknown variable '{dotted}'; {hint}allowed: {listed}")

    for node in parsed.find_all((nodes.Name, nodes.Getattr, nodes.Getitem)):
        chain = _chain(node)
        if chain is None or chain[0] not in free:
            continue
        name, path = chain
        if name not in variables.types:
            unknown_variable(name)
            continue
        failing = variables.lookup(name, path)
        if failing is not None:
            unknown_variable(".".join([name, *path[: failing + 1]]))
    for output in parsed.find_all(nodes.Output):
        for expr in output.nodes:
            if isinstance(expr, nodes.Name) and expr.name in free and _is_record(variables.types.get(expr.name)):
                fields = ", ".join(n for n in allowed if n.startswith(f"{expr.name}."))
                problems.append(f"speaks '{expr.name}' itself, which is not text; use one of: {fields}")
    for kind, names, found in (("filter", ALLOWED_FILTERS, nodes.Filter), ("test", ALLOWED_TESTS, nodes.Test)):
        for node in parsed.find_all(found):
            if node.name not in names and f"{kind} {node.name}" not in reported:
                reported.add(f"{kind} {node.name}")
                close = difflib.get_close_matches(node.name, names, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'? " if close else ""
                problems.append(f"uses {kind} '{node.name}', which prompts may not use; {hint}allowed: {', '.join(names)}")
    return problems


def _chain(node: nodes.Node) -> tuple[str, list[str]] | None:
    """`caller.house_name` -> ('caller', ['house_name']); None unless a variable is read by name and constant keys."""
    path: list[str] = []
    while isinstance(node, (nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr):
            path.insert(0, node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            path.insert(0, node.arg.value)
        else:
            return None
        node = node.node
    if isinstance(node, nodes.Name) and node.ctx == "load":
        return node.name, path
    return None


def _is_record(type_: Any) -> bool:
    return isinstance(type_, type) and dataclasses.is_dataclass(type_)


def _is_mapping(type_: Any) -> bool:
    return getattr(type_, "__origin__", None) is dict or type_ is dict


@lru_cache(maxsize=64)
def _hints(type_: type) -> dict[str, Any]:
    return typing.get_type_hints(type_)


def _unwrap_optional(hint: Any) -> Any:
    """`X | None` -> X; other unions and generics stay as they are (and are not checked further)."""
    if isinstance(hint, types.UnionType) or getattr(hint, "__origin__", None) is typing.Union:
        rest = [arg for arg in hint.__args__ if arg is not type(None)]
        return rest[0] if len(rest) == 1 else hint
    return hint
