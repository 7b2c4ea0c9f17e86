"""The state of one call between two events; plain data so it can live in any database row."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class CallState:
    """Where a call stands: current node, what it waits for, retry counters."""

    node: str | None = None
    waiting: str | None = None  # "menu", "dial", "record", "transcribing" or None
    no_input: int = 0
    no_match: int = 0
    finished: bool = False
    steps: int = 0
    service: str | None = None  # service kind the call last tried to reach; prompts may speak of it
    answers: dict[str, Any] = field(default_factory=dict, hash=False)  # what ask nodes stored: {{ answers.town }}
    housing_counted: bool = False  # this call was counted in the anonymous housing demand
    matched: list[str] = field(default_factory=list, hash=False)  # housing project ids the last match node named, best first
    # The caller agreed that their answers are stored (a match node's consent); without it the answers
    # live only for the call and are forgotten when it ends (ivr.calls.handler.close_call).
    answers_kept: bool = False
    # A message to the neighbours (house_message): the recording of its draft (the text is in the draft's
    # row, never here) and how many more polls the call waits for its transcript.
    draft: str | None = None
    polls_left: int = 0
    draft_understood: bool = False  # its transcript was read back (1 may send it), not "not understood"

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping for JSON storage."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "CallState":
        """Rebuild from to_dict() output, ignoring unknown keys from older revisions."""
        if not data:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def at(self, node: str | None, waiting: str | None = None) -> "CallState":
        """The same call moved to another node, counters reset."""
        return self.evolve(node=node, waiting=waiting, no_input=0, no_match=0)

    def evolve(self, **changes: Any) -> "CallState":
        """A copy with changes."""
        return replace(self, **changes)
