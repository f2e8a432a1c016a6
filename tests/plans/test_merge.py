"""The three-way merge of two saves of one plan, on plan representations (the web tests walk
the same through the editor)."""

import copy

import pytest

from plans.contract import GOALS_MAX
from plans.merge import merge_onto


def goal(n: int, words: str = "", steps: list | None = None) -> dict:
    return {
        "id": f"g{n}",
        "client_words": words or f"goal {n}",
        "clinical_restatement": "",
        "target_date": None,
        "steps": steps or [],
    }


BASE = {
    "version": 1,
    "agreement": {"client_decision": None},
    "safety_plan": "",
    "review_date": None,
    "goals": [goal(1), goal(2)],
    "referrals": [],
}


def now(**edits) -> dict:
    current = copy.deepcopy(BASE)
    current.update(edits)
    return current


def test_their_new_goal_is_kept_once_and_their_removed_goal_stays_removed() -> None:
    current = now(goals=[goal(1), goal(3)])  # they removed goal 2 and added goal 3
    mine = {"goals": [{"id": "g1", "clinical_restatement": "Rest"}, {"id": "g2"}, {"id": "g3"}]}
    assert merge_onto(BASE, current, mine) == {
        "goals": [{"id": "g1", "clinical_restatement": "Rest"}, {"id": "g3"}]
    }


@pytest.mark.parametrize(
    "current",
    [
        now(goals=[goal(2)]),  # they removed goal 1
        now(goals=[goal(1, "sleep better"), goal(2)]),  # they changed goal 1
        now(safety_plan="theirs"),  # they changed something else
    ],
)
def test_a_goal_this_save_removed_stays_removed(current: dict) -> None:
    """Removing goal 2 while the other save did something else keeps it removed."""
    merged = merge_onto(BASE, current, {"goals": [{"id": "g1"}]})
    assert merged is not None
    ids = [entry["id"] for entry in merged["goals"]]
    assert "g2" not in ids
    assert ids == [g["id"] for g in current["goals"] if g["id"] != "g2"]


def test_goals_added_by_both_keep_the_order_they_were_saved_in() -> None:
    current = now(goals=[goal(1), goal(2), goal(3, "theirs, saved first")])
    mine = {"goals": [{"id": "g1"}, {"id": "g2"}, {"client_words": "mine, saved second"}]}
    assert merge_onto(BASE, current, mine) == {
        "goals": [{"id": "g1"}, {"id": "g2"}, {"id": "g3"}, {"client_words": "mine, saved second"}]
    }


def test_the_same_service_added_by_both_is_not_merged() -> None:
    referral = {"id": "r1", "agency": "a1", "client_decision": "accepted", "note": ""}
    current = now(referrals=[referral])
    mine = {"referrals": [{"agency": "a1", "client_decision": "declined"}]}
    assert merge_onto(BASE, current, mine) is None
    other = {"referrals": [{"agency": "a2", "client_decision": "declined"}]}
    assert merge_onto(BASE, current, other) == {
        "referrals": [{"id": "r1"}, {"agency": "a2", "client_decision": "declined"}]
    }


@pytest.mark.parametrize(
    ("current", "mine"),
    [
        # I removed goal 2, which they changed meanwhile
        (now(goals=[goal(1), goal(2, "sleep better")]), {"goals": [{"id": "g1"}]}),
        # I changed goal 2, which they removed
        (now(goals=[goal(1)]), {"goals": [{"id": "g1"}, {"id": "g2", "client_words": "x"}]}),
        # a step of theirs and my words on the same goal
        (
            now(goals=[goal(1, steps=[{"id": "s1"}]), goal(2)]),
            {"goals": [{"id": "g1", "client_words": "x"}, {"id": "g2"}]},
        ),
        # the same plan field
        (now(safety_plan="theirs"), {"safety_plan": "mine"}),
        # a decision recorded meanwhile
        (now(agreement={"client_decision": "agrees"}), {"safety_plan": "mine"}),
        # together, more goals than a plan holds
        (
            now(goals=[goal(n) for n in range(1, GOALS_MAX + 1)]),
            {"goals": [{"id": "g1"}, {"id": "g2"}, {"client_words": "one more"}]},
        ),
    ],
)
def test_saves_that_overlap_are_not_merged(current: dict, mine: dict) -> None:
    assert merge_onto(BASE, current, mine) is None


def test_a_decision_given_on_an_older_page_is_not_merged() -> None:
    changes = {"agreement": {"client_decision": "agrees"}}
    assert merge_onto(BASE, now(review_date="2027-01-01"), changes) is None
