"""The variables a flow's templates may use: the engine's TemplateVariables, plus what the flow declares."""

from __future__ import annotations

import typing

from ivr.engine.context import TemplateVariables
from ivr.flows.templates import Variables


def engine_variables(declared: dict[str, tuple[str, ...]] | None = None) -> Variables:
    """The names and types the engine renders prompts with; `declared` adds a flow's own keys (e.g. answers)."""
    return Variables(types=typing.get_type_hints(TemplateVariables), declared=dict(declared or {}))
