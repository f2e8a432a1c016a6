"""The labelled sets (tests/language/data) and floors under the measured figures, so that a change
to the lexicon or the rules that loses recall or adds false positives fails here."""

import pytest

from bench.language import load, score

# Measured when these floors were set (make bench): tune recall 0.988, false positives 0/171;
# held-out recall 0.987, false positives 0/159. The floors sit slightly under.
FLOORS = {
    "tune": {"recall": 0.97, "false_positive_rate": 0.013},
    "heldout": {"recall": 0.975, "false_positive_rate": 0.013},
    # Written by another author who had not seen the lexicon or the rules (2026-11-28). A was
    # then tuned on (recall 0.841 -> 0.991, false positives 1 -> 0 of 112) while B stayed
    # unopened (recall 0.708 -> 0.779, false positives 3 -> 2 of 113); then B was tuned on
    # (0.965, 0 false positives).
    "outside_a": {"recall": 0.97, "false_positive_rate": 0.01},
    "outside_b": {"recall": 0.95, "false_positive_rate": 0.01},
    # A third set by another author, written after both rounds of tuning and never tuned on:
    # recall 0.897, false positives 3 of 108. The figure for unseen notes.
    "outside_c": {"recall": 0.88, "false_positive_rate": 0.04},
}
SETS = list(FLOORS)


@pytest.mark.parametrize("name", ["tune", "heldout"])
def test_each_set_has_at_least_150_judgemental_and_150_neutral_sentences(name: str) -> None:
    rows = load(name)
    assert sum(r["judgemental"] for r in rows) >= 150
    assert sum(not r["judgemental"] for r in rows) >= 150
    assert all(isinstance(r["judgemental"], bool) and r["text"].strip() for r in rows)


def test_the_held_out_set_shares_no_sentence_with_the_tuning_set() -> None:
    tune = {r["text"].lower() for r in load("tune")}
    assert not tune & {r["text"].lower() for r in load("heldout")}
    outside_a = {r["text"].lower() for r in load("outside_a")}
    assert not outside_a & {r["text"].lower() for r in load("outside_b")}
    assert not outside_a & {r["text"].lower() for r in load("outside_c")}


@pytest.mark.parametrize("name", SETS)
def test_recall_and_false_positives_stay_above_the_measured_floor(name: str) -> None:
    result = score(name)
    assert result.recall >= FLOORS[name]["recall"], result.misses
    assert result.false_positive_rate <= FLOORS[name]["false_positive_rate"], result.false_alarms
