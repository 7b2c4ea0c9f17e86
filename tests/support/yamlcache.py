"""Each YAML text parsed once per test process: ruamel's round-trip parser is most of an app's start-up.

Every test app reads the three flow files and every demo import the six directory files; with ruamel
that is about a second and a half per test, the same texts each time. The parsers are pure functions
of their arguments (the text, its path, the kind), so a test gets a deep copy of the first result for
the same text: the same data, lines and problems. The parsers' own tests call them directly, uncached.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator

import pytest


def parsed_once(parse: Callable) -> Callable:
    """parse, remembering its result per argument tuple; each caller gets its own deep copy."""
    results: dict[tuple, object] = {}

    @functools.wraps(parse)
    def parse_once(*args):
        if args not in results:
            results[args] = parse(*args)
        return copy.deepcopy(results[args])

    return parse_once


@pytest.fixture(scope="session", autouse=True)
def yaml_parsed_once() -> Iterator[None]:
    """Flow files and directory files parsed once per text in this test process (tests/conftest.py uses it)."""
    from ivr.directory import sources
    from ivr.flows import loader

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loader, "parse_yaml", parsed_once(loader.parse_yaml))
        patch.setattr(sources, "yaml_rows", parsed_once(sources.yaml_rows))
        yield
