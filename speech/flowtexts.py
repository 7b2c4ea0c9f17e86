"""Every prompt text of a set of flows, walked generically over the flow model's dataclasses."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

from ivr.flows.model import Flow, Prompt


def _prompts(value) -> Iterator[Prompt]:
    """Prompts anywhere inside a node, option or retry: new node kinds need no change here."""
    if isinstance(value, Prompt):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _prompts(getattr(value, field.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _prompts(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _prompts(item)


def prompt_segments(flows: Iterable[Flow]) -> Iterator[tuple[str, str]]:
    """(segment, language) of every prompt of every flow, templates included, in flow order."""
    for flow in flows:
        for prompt in _prompts([flow.nodes, flow.globals]):
            for segment in prompt.segments:
                yield segment, flow.language


def is_template(segment: str) -> bool:
    """A segment with template syntax differs per caller, so it renders on first use, not ahead of time."""
    return "{" in segment


def collect_prompt_texts(flows: Iterable[Flow]) -> list[tuple[str, str]]:
    """Distinct (text, language) pairs that can be rendered ahead of time (templated segments left out)."""
    return list(dict.fromkeys(pair for pair in prompt_segments(flows) if not is_template(pair[0])))
