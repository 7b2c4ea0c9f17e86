"""Prompt templates: Jinja2 in its sandbox, so a flow file can read caller data but run nothing."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)


@lru_cache(maxsize=4096)
def _compiled(source: str):
    return _env.from_string(source)


def render(source: str, variables: dict[str, Any]) -> str:
    """Render a prompt; plain text without template syntax is returned as is (the common, fast case)."""
    if "{" not in source:
        return source
    return " ".join(_compiled(source).render(**variables).split())


def template_problems(source: str, allowed_names: tuple[str, ...]) -> list[str]:
    """Messages for a syntax error or an unknown variable name; empty when the template is fine."""
    if "{" not in source:
        return []
    try:
        parsed = _env.parse(source)
    except TemplateSyntaxError as exc:
        return [f"template syntax error: {exc.message}"]
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(allowed_names))
    return [
        f"template uses unknown name '{name}'; allowed: {', '.join(allowed_names)}" for name in unknown
    ]
