"""The step conditions and branch deletion, as pure functions over answers."""

import pytest

from forms import STEPS_BY_NAME, enabled_steps, prune_answers, work_term
from forms.django_forms import StepInvalid, form_class, validate_payload

ALWAYS = ["consent", "about", "goals", "stigma_coping", "supports", "reflection", "review"]
WORK = {"about": {"work_focus": "central"}}


def names(kind: str, answers: dict) -> list[str]:
    return [s.name for s in enabled_steps(kind, answers)]


def test_with_no_answers_work_is_not_a_topic() -> None:
    assert names("individual", {}) == ALWAYS


@pytest.mark.parametrize("focus", ["not_now", "no", "prefer_not_to_say"])
def test_work_steps_stay_off_unless_work_is_a_topic(focus: str) -> None:
    assert names("individual", {"about": {"work_focus": focus}}) == ALWAYS


@pytest.mark.parametrize("focus", ["central", "part"])
def test_work_is_a_topic_turns_on_work_steps(focus: str) -> None:
    assert names("individual", {"about": {"work_focus": focus}}) == [
        "consent",
        "about",
        "goals",
        "work_context",
        "precautions",
        "stigma_coping",
        "work_plans",
        "supports",
        "reflection",
        "review",
    ]


def test_no_work_details_turns_off_every_work_step() -> None:
    # DESIGN "What is recorded": work_context, precautions, work_plans, exit_planning are off.
    answers = {
        **WORK,
        "consent": {"recording_preference": "no_work_details"},
        "work_plans": {"work_direction": "leave"},
    }
    assert names("individual", answers) == ALWAYS


@pytest.mark.parametrize(
    ("direction", "exit_on"),
    [
        ("leave", True),
        ("reduce", True),
        ("continue", False),
        ("change_conditions", False),
        ("undecided", False),
        ("not_relevant", False),
        ("prefer_not_to_say", False),
    ],
)
def test_exit_planning_only_when_the_client_chose_leave_or_reduce(direction, exit_on) -> None:
    answers = {**WORK, "work_plans": {"work_direction": direction}}
    assert ("exit_planning" in names("individual", answers)) is exit_on


def test_partner_step_only_for_couples() -> None:
    assert "partner" not in names("individual", {})
    # A couple choose their topics before any work step, which depends on them.
    assert names("couple", {}) == [
        "consent",
        "private_check_a",
        "private_check_b",
        "about",
        "goals",
        "partner",
        "stigma_coping",
        "supports",
        "reflection",
        "review",
    ]


def test_switching_work_off_deletes_every_dependent_answer_in_one_pass() -> None:
    answers = {
        "about": {"work_focus": "no"},
        "goals": {"client_goals": ["sleep"]},
        "work_context": {"work_types": ["massage"]},
        "precautions": {"precautions_used": ["peer_support"]},
        "work_plans": {"work_direction": "leave"},
        "exit_planning": {"exit_stage": "planning"},
    }
    kept, removed = prune_answers("individual", answers)
    assert removed == ["work_context", "precautions", "work_plans", "exit_planning"]
    assert kept == {"about": {"work_focus": "no"}, "goals": {"client_goals": ["sleep"]}}


def test_changing_direction_from_leave_deletes_exit_planning_only() -> None:
    answers = {
        **WORK,
        "work_plans": {"work_direction": "continue"},
        "exit_planning": {"exit_stage": "planning"},
    }
    kept, removed = prune_answers("individual", answers)
    assert removed == ["exit_planning"]
    assert "work_plans" in kept


def test_work_term_is_the_clients_own_word_verbatim() -> None:
    assert work_term({}) == "sex work"
    assert work_term({"about": {"work_term": "Camming & Co"}}) == "Camming & Co"


def test_labels_never_slot_the_clients_term_into_grammar() -> None:
    form = form_class("work_context")(work_term="dancing", work_topic=True)
    assert form.fields["work_types"].label == "What kinds of work do you do?"
    assert "{work}" not in str(STEPS_BY_NAME)


def test_stigma_step_is_worded_generally_when_work_is_not_a_topic() -> None:
    form = form_class("stigma_coping")(work_term="sex work", work_topic=False)
    text = " ".join(str(f.label) for f in form.fields.values()).lower()
    assert "work" not in text
    assert "sex" not in text


def test_work_direction_has_no_default_and_equal_options() -> None:
    form = form_class("work_plans")(prefix="work_plans")
    field = form.fields["work_direction"]
    assert field.initial is None
    assert "checked" not in str(form["work_direction"])
    codes = [code for code, _ in field.choices]
    assert codes == [
        "continue",
        "change_conditions",
        "reduce",
        "leave",
        "undecided",
        "not_relevant",
        "prefer_not_to_say",
    ]


def test_sex_work_couple_topic_is_unticked_by_default() -> None:
    form = form_class("partner")(prefix="partner")
    assert "checked" not in str(form["couple_topics"])
    assert "sex_work" in [code for code, _ in form.fields["couple_topics"].choices]


def test_no_sensitive_field_is_required() -> None:
    required = [(s.name, f.name) for s in STEPS_BY_NAME.values() for f in s.fields if f.required]
    assert required == [
        ("consent", "confidentiality_explained"),
        ("consent", "recording_preference"),
        ("review", "confirmed"),
    ]


def test_every_sensitive_question_says_why_it_is_asked() -> None:
    missing = [
        (s.name, f.name)
        for s in STEPS_BY_NAME.values()
        for f in s.fields
        if f.sensitivity != "routine" and not f.why
    ]
    assert missing == []


def test_every_sensitive_single_choice_offers_prefer_not_to_say() -> None:
    for step in STEPS_BY_NAME.values():
        for field in step.fields:
            if (
                field.kind == "choice"
                and field.sensitivity != "routine"
                and field.name != "exit_stage"
            ):
                assert "prefer_not_to_say" in field.codes, field.name


def test_prefer_not_to_say_is_kept_as_its_own_answer() -> None:
    answers = validate_payload(STEPS_BY_NAME["work_context"], {"work_types": ["prefer_not_to_say"]})
    assert answers == {"work_types": ["prefer_not_to_say"]}


def test_prefer_not_to_say_cannot_be_mixed_with_other_answers() -> None:
    with pytest.raises(StepInvalid) as exc:
        validate_payload(
            STEPS_BY_NAME["work_context"], {"work_types": ["prefer_not_to_say", "massage"]}
        )
    assert list(exc.value.errors) == ["work_types"]


def test_blank_answers_are_left_out_so_skipped_differs_from_prefer_not_to_say() -> None:
    assert validate_payload(STEPS_BY_NAME["work_context"], {}) == {}


def test_goals_are_kept_verbatim_apart_from_surrounding_space() -> None:
    words = ["i wanna  feel less alone", "Sleep — properly!!", "ÉCRIRE: mon histoire"]
    answers = validate_payload(STEPS_BY_NAME["goals"], {"client_goals": [f" {w} " for w in words]})
    assert answers["client_goals"] == words


HARM_REDUCTION = STEPS_BY_NAME["harm_reduction"]


@pytest.mark.parametrize(
    ("direction", "harm_reduction", "exit_planning"),
    [
        ("continue", True, False),
        ("change_conditions", True, False),
        ("reduce", True, True),  # doing less is still working: the safety page stays
        ("undecided", True, False),
        ("leave", False, True),
    ],
)
def test_whoever_keeps_working_gets_the_work_safety_page(
    direction, harm_reduction, exit_planning
) -> None:
    answers = {**WORK, "work_plans": {"work_direction": direction}}
    assert HARM_REDUCTION.enabled("individual", answers) is harm_reduction
    assert STEPS_BY_NAME["exit_planning"].enabled("individual", answers) is exit_planning


@pytest.mark.parametrize(
    ("direction", "asked"),
    [("continue", False), ("change_conditions", True), ("undecided", True)],
)
def test_what_to_change_about_work_is_asked_only_of_whoever_is_open_to_it(direction, asked) -> None:
    # After "keep going as I am", asking what they would change about how or where they work
    # assumes a change they did not choose (G6). The rest of the step is asked all the same.
    from forms import form_kwargs

    answers = {**WORK, "work_plans": {"work_direction": direction}}
    form = form_class("harm_reduction")(**form_kwargs("individual", answers, step=HARM_REDUCTION))
    assert ("change_what" in form.fields) is asked
    assert "occupational_health" in form.fields


def test_choosing_keep_going_after_naming_a_change_removes_that_answer_only() -> None:
    answers = {
        **WORK,
        "work_plans": {"work_direction": "continue"},
        "harm_reduction": {"rights": ["police"], "change_what": "Work with a friend"},
    }
    kept, removed = prune_answers("individual", answers)
    assert removed == []
    assert kept["harm_reduction"] == {"rights": ["police"]}


def test_an_answer_to_a_question_an_earlier_answer_switched_off_is_refused_by_name() -> None:
    from forms import form_kwargs

    answers = {**WORK, "work_plans": {"work_direction": "continue"}}
    kwargs = form_kwargs("individual", answers, step=HARM_REDUCTION)
    with pytest.raises(StepInvalid) as refused:
        validate_payload(HARM_REDUCTION, {"change_what": "Work with a friend"}, **kwargs)
    assert list(refused.value.errors) == ["change_what"]
    # Sent blank, as a generated client sends every field, it is simply not stored.
    assert validate_payload(
        HARM_REDUCTION, {"change_what": "", "rights": ["police"]}, **kwargs
    ) == {"rights": ["police"]}
