"""What the housing nodes ask the adapter to do: small frozen dataclasses, like ivr.engine.actions."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.housing.ranking import Seeker


@dataclass(frozen=True)
class HousingMatched:
    """A match node ranked the projects: count the caller anonymously; store them only with consent."""

    node: str
    seeker: Seeker
    projects: tuple[str, ...]  # ids said to the caller: the matches, or what came closest
    found: bool
    answers: tuple[tuple[str, str], ...]  # every answer of the call, for the seeker's record
    keep: bool  # the caller agreed that their answers are stored
    count: bool = True  # False when the caller hears the results again: counted once per call


@dataclass(frozen=True)
class SendDetails:
    """Send the details of these projects to the caller by SMS."""

    node: str
    projects: tuple[str, ...]
    language: str


@dataclass(frozen=True)
class BookProjectCallback:
    """Ask a project's contact (or, with no project, the network's staff) to call the caller back.

    Only booked when the caller agreed that their answers are passed on: they go with the task.
    """

    node: str
    project: str | None
    answers: tuple[tuple[str, str], ...]
    language: str


HOUSING_EFFECTS = (HousingMatched, SendDetails, BookProjectCallback)
