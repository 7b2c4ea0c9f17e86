"""The words of housing projects: kinds of living, features, rent bands; shared by files, flows and reports."""

from __future__ import annotations

# Kinds of living a project offers (a project may offer several).
LIVING_KINDS = ("multi_generation", "seniors", "shared_flat", "cooperative")
# Features of a project's house; a seeker's need filters on them, a wish ranks by them.
FEATURES = ("step_free", "lift", "care", "garden", "pets", "shared_rooms")
# Rent bands, cheapest first, with the highest monthly warm rent (euros, one person) each one covers.
RENT_BANDS = ("low", "medium", "high")
RENT_BAND_LIMITS = {"low": 500, "medium": 800, "high": None}
# When a seeker wants to move: soon (a flat must be free now) or later (an open waiting list will do).
TIMINGS = ("soon", "later")
ANY = "any"  # an answer that does not narrow the search ("egal")


def budget_band(euros: int) -> str:
    """The rent band a monthly budget in euros reaches: 450 -> low, 700 -> medium, 1200 -> high."""
    for band in RENT_BANDS:
        limit = RENT_BAND_LIMITS[band]
        if limit is None or euros <= limit:
            return band
    return RENT_BANDS[-1]
