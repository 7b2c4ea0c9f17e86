"""Rank housing projects for one seeker: hard needs filter, wishes rank, ties go to free flats.

A pure function of (projects, seeker): no database, no clock. The flow's `match` node calls it with
the projects of the call's context and the caller's answers; the tests call it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ivr.housing.vocabulary import RENT_BANDS

BEST = 3  # callers hear at most three projects: more cannot be kept in mind on the phone


@dataclass(frozen=True)
class Project:
    """A housing project as the engine sees it (built from the directory's HousingProject row)."""

    id: str
    name: str
    town: str
    region: str
    kinds: tuple[str, ...]
    features: tuple[str, ...]
    rent_band: str
    flats_free: int = 0
    waiting_list: bool = False
    phone_text: str = ""
    sms_text: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    address: str = ""

    @property
    def joinable(self) -> bool:
        """Someone can move in now or get onto the waiting list."""
        return self.flats_free > 0 or self.waiting_list


@dataclass(frozen=True)
class Seeker:
    """What a caller asked for; None or empty means 'does not matter'."""

    region: str | None = None  # hard: only projects in this region
    needs: frozenset[str] = frozenset()  # hard: features the project must have (step-free, care)
    budget: str | None = None  # hard: the highest rent band the caller can pay
    timing: str | None = None  # hard: "soon" needs a free flat; "later" takes an open waiting list too
    kind: str | None = None  # wish: the kind of living they prefer
    wishes: frozenset[str] = frozenset()  # wish: features that would be nice


@dataclass(frozen=True)
class Scored:
    """A project with its score (higher is better) and the hard needs it misses (empty for a match)."""

    project: Project
    score: int
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ranking:
    """The best matches, or (when nothing fits) the projects that came closest and what they lack."""

    matches: tuple[Scored, ...]
    closest: tuple[Scored, ...] = field(default=())

    @property
    def found(self) -> bool:
        return bool(self.matches)


KIND_WEIGHT = 2  # the preferred kind of living counts as much as two wished-for features


def missing_needs(project: Project, seeker: Seeker) -> tuple[str, ...]:
    """The hard needs this project does not meet, as short codes (region, budget, step_free, flat, ...)."""
    missing: list[str] = []
    if seeker.region and project.region != seeker.region:
        missing.append("region")
    missing.extend(sorted(need for need in seeker.needs if need not in project.features))
    if seeker.budget and RENT_BANDS.index(project.rent_band) > RENT_BANDS.index(seeker.budget):
        missing.append("budget")
    if seeker.timing == "soon" and project.flats_free <= 0:
        missing.append("flat")
    elif not project.joinable:
        missing.append("waiting_list")
    return tuple(missing)


def wish_score(project: Project, seeker: Seeker) -> int:
    """How many wishes the project meets (the preferred kind counts KIND_WEIGHT)."""
    score = sum(1 for wish in seeker.wishes if wish in project.features)
    if seeker.kind and seeker.kind in project.kinds:
        score += KIND_WEIGHT
    return score


def _order(scored: Scored) -> tuple:
    # Fewest missing needs, most wishes met, most free flats, an open waiting list, then by name.
    p = scored.project
    return (len(scored.missing), -scored.score, -p.flats_free, not p.waiting_list, p.name, p.id)


def rank(projects: list[Project] | tuple[Project, ...], seeker: Seeker, limit: int = BEST) -> Ranking:
    """The best `limit` projects meeting every hard need, best first; else the closest ones."""
    scored = sorted((Scored(p, wish_score(p, seeker), missing_needs(p, seeker)) for p in projects), key=_order)
    matches = tuple(s for s in scored if not s.missing)
    if matches:
        return Ranking(matches[:limit])
    # Nothing fits: say honestly what came closest (missing the fewest needs), at most two.
    return Ranking((), tuple(s for s in scored if s.project.joinable)[:2])
