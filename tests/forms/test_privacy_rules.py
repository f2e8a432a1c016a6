"""The privacy rules declared in forms/, as pure functions: what is recorded, which steps the
client sees, when a private check asks for a safety follow-up, and the "who sees this" text."""

import pytest

from forms import STEPS_BY_NAME, client_steps, needs_safety_prompt, prune_answers, work_term
from forms.django_forms import form_class, validate_payload
from forms.who_sees import Sharing, who_sees


def pref(value: str) -> dict:
    return {"consent": {"confidentiality_explained": True, "recording_preference": value}}


def test_prune_drops_fields_the_preference_does_not_record() -> None:
    answers = {
        **pref("minimal"),
        "about": {"work_term": "the life", "work_focus": "central"},
        "goals": {"client_goals": ["a"], "what_brings_you": "b"},
        "stigma_coping": {"coping_notes": "c", "coping_strategies": ["humor"]},
    }
    kept, removed = prune_answers("individual", answers)
    assert kept["goals"] == {"client_goals": ["a"]}
    assert kept["stigma_coping"] == {"coping_strategies": ["humor"]}
    assert kept["about"] == {"work_term": "the life", "work_focus": "central"}
    assert removed == []
    kept, _ = prune_answers("individual", {**answers, **pref("no_work_details")})
    assert kept["about"] == {}
    assert kept["goals"]["what_brings_you"] == "b"
    assert work_term(kept) == "sex work"


def test_no_work_details_hides_a_stored_work_term_from_every_reader() -> None:
    answers = {**pref("no_work_details"), "about": {"work_term": "the life"}}
    assert work_term(answers) == "sex work"


def test_the_clients_steps_never_include_a_clinician_only_step() -> None:
    names = [s.name for s in client_steps("couple", {})]
    assert "reflection" not in names
    assert "private_check_a" not in names
    assert "private_check_b" not in names
    assert names[-1] == "review"


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"feels_safe": "no"}, True),
        ({"pressure": "a_lot"}, True),
        ({"feels_safe": "unsure", "pressure": "some"}, False),
        ({"wants_individual_time": True}, False),
        ({}, False),
    ],
)
def test_safety_prompt_only_for_no_or_a_lot(answers, expected) -> None:
    assert needs_safety_prompt(STEPS_BY_NAME["private_check_a"], answers) is expected


def test_private_check_fields_and_codes_are_as_designed() -> None:
    step = STEPS_BY_NAME["private_check_b"]
    assert [f.name for f in step.fields] == [
        "feels_safe",
        "pressure",
        "wants_individual_time",
        "private_notes",
    ]
    assert step.get_field("feels_safe").codes == [
        "yes",
        "mostly",
        "no",
        "unsure",
        "prefer_not_to_say",
    ]
    assert step.get_field("pressure").codes == ["none", "some", "a_lot", "prefer_not_to_say"]
    assert step.audience == "care_team"
    assert not step.enabled("individual", {})


def test_a_not_recorded_field_is_not_in_the_form_and_dropped_from_a_payload() -> None:
    form = form_class("goals")(not_recorded=["what_brings_you"])
    assert "what_brings_you" not in form.fields
    assert "client_goals" in form.fields
    answers = validate_payload(
        STEPS_BY_NAME["goals"],
        {"client_goals": ["x"], "what_brings_you": 5},  # not even validated
        not_recorded=["what_brings_you"],
    )
    assert answers == {"client_goals": ["x"]}


@pytest.mark.parametrize(
    ("step", "sharing", "expected"),
    [
        ("about", Sharing(("Ann",), False), "You and your clinician (Ann)."),
        (
            "about",
            Sharing(("Ann", "Bo", "Cy"), False),
            "You and the clinicians on your care team (Ann, Bo and Cy).",
        ),
        (
            "partner",
            Sharing(("Ann",), False, couple=True),
            "You both (each of you sees what the other answers) and your clinician (Ann).",
        ),
        ("private_check_a", Sharing(("Ann",), False, couple=True), "Only the clinicians"),
        ("reflection", Sharing(("Ann", "Bo"), True), "Only you (here"),
        ("private_check_a", Sharing(("Ann", "Bo"), True), "Only the clinicians"),
    ],
)
def test_who_sees_follows_the_facts(step, sharing, expected) -> None:
    text = who_sees(STEPS_BY_NAME[step], sharing)
    assert text.startswith(expected)
    assert ("connects other systems" in text) is (sharing.connected and step == "about")
