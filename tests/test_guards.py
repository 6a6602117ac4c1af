"""The small-numbers rule (domain.md §5.5): one definition for every estimate."""

from core.guards import MIN_EVENTS, MIN_PATIENTS, unreliable_reason


def test_thresholds_are_the_documented_ones():
    assert (MIN_PATIENTS, MIN_EVENTS) == (10, 5)


def test_boundaries():
    assert unreliable_reason(10, 5) == ""
    assert unreliable_reason(9, 5) == "only 9 patients (fewer than 10)"
    assert unreliable_reason(10, 4) == "only 4 events (fewer than 5)"
    assert unreliable_reason(0, 0) == "only 0 patients (fewer than 10) and only 0 events (fewer than 5)"
