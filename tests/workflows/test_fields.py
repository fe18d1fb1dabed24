"""The action fields' validation (workflows/fields.py): penalties come back clean — each once, with
only their own keys — or as a problem."""
import pytest

from workflows.fields import validate


@pytest.mark.parametrize("penalties", [
    [{"kind": "points", "points": 48}, {"kind": "points", "points": 48}],
    [{"kind": "takedown", "listing_id": 8}, {"kind": "takedown", "listing_id": 8}],
    [{"kind": "blacklist"}, {"kind": "blacklist"}],
    [{"kind": "restrict", "days": 7}, {"kind": "restrict", "days": 30}],
])
def test_a_penalty_twice_is_a_problem(penalties):
    clean, errors = validate(("penalties",), {"penalties": penalties})
    assert errors["penalties"].code == "penalty_twice" and "penalties" not in clean


def test_penalties_keep_only_their_own_keys():
    clean, errors = validate(("penalties",), {"penalties": [
        {"kind": "takedown", "listing_id": 8, "x": float("inf")}, {"kind": "takedown", "listing_id": 9},
        {"kind": "points", "points": 3, "note": "<b>"}, {"kind": "blacklist", "days": 3}]})
    assert errors == {}
    assert clean["penalties"] == [{"kind": "takedown", "listing_id": 8}, {"kind": "takedown", "listing_id": 9},
                                  {"kind": "points", "points": 3}, {"kind": "blacklist"}]
