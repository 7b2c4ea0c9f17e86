"""The ranking of housing projects, a pure function: hard needs filter, wishes rank, free flats break ties."""

from __future__ import annotations

from ivr.housing.ranking import Project, Seeker, rank


def project(id: str, region: str = "siegen", kinds=("multi_generation",), features=(), rent_band="medium",
            flats_free=1, waiting_list=True) -> Project:
    return Project(id=id, name=id.title(), town=region.title(), region=region, kinds=tuple(kinds),
                   features=tuple(features), rent_band=rent_band, flats_free=flats_free, waiting_list=waiting_list)


PROJECTS = (
    project("stufenlos-siegen", features=("step_free", "lift", "garden")),
    project("treppen-siegen", features=("garden", "pets"), rent_band="low", flats_free=3),
    project("pflege-siegen", kinds=("seniors",), features=("step_free", "care"), rent_band="low"),
    project("teuer-siegen", features=("step_free",), rent_band="high", flats_free=4),
    project("voll-siegen", features=("step_free",), flats_free=0, waiting_list=True),
    project("zu-siegen", features=("step_free",), flats_free=0, waiting_list=False),
    project("stufenlos-kreuztal", region="kreuztal", features=("step_free", "care"), flats_free=5),
)


def ids(scored) -> list[str]:
    return [s.project.id for s in scored]


def test_hard_needs_filter_region_features_budget_and_closed_projects():
    ranking = rank(PROJECTS, Seeker(region="siegen", needs=frozenset({"step_free"}), budget="medium"), limit=10)
    assert set(ids(ranking.matches)) == {"stufenlos-siegen", "pflege-siegen", "voll-siegen"}
    # treppen: not step-free; teuer: over budget; zu: full with a closed waiting list; kreuztal: other town


def test_wishes_rank_and_the_preferred_kind_counts_double():
    seeker = Seeker(region="siegen", needs=frozenset({"step_free"}), wishes=frozenset({"garden"}), kind="seniors")
    assert ids(rank(PROJECTS, seeker).matches) == ["pflege-siegen", "stufenlos-siegen", "teuer-siegen"]


def test_ties_go_to_the_project_with_more_free_flats_then_an_open_waiting_list():
    a = project("a", flats_free=1)
    b = project("b", flats_free=3)
    c = project("c", flats_free=1, waiting_list=False)
    assert ids(rank((a, c, b), Seeker()).matches) == ["b", "a", "c"]


def test_moving_soon_needs_a_free_flat_later_takes_a_waiting_list():
    soon = rank(PROJECTS, Seeker(region="siegen", needs=frozenset({"step_free"}), timing="soon"), limit=10)
    later = rank(PROJECTS, Seeker(region="siegen", needs=frozenset({"step_free"}), timing="later"), limit=10)
    assert "voll-siegen" not in ids(soon.matches) and "voll-siegen" in ids(later.matches)
    assert "zu-siegen" not in ids(later.matches)


def test_at_most_three_are_said():
    assert len(rank(PROJECTS, Seeker()).matches) == 3


def test_nothing_fits_says_what_came_closest_and_what_it_lacks():
    ranking = rank(PROJECTS, Seeker(region="kreuztal", needs=frozenset({"step_free", "pets"})))
    assert not ranking.found and ranking.matches == ()
    closest = ranking.closest[0]
    assert closest.project.id == "stufenlos-kreuztal" and closest.missing == ("pets",)
    assert all(s.project.joinable for s in ranking.closest) and len(ranking.closest) <= 2


def test_no_projects_at_all_is_an_honest_empty_ranking():
    ranking = rank((), Seeker(region="siegen"))
    assert not ranking.found and ranking.closest == ()
