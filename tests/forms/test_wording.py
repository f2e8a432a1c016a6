"""Wording that reads right (issue 13): the client's term as a quoted label, never in grammar;
plan wording said to the client; general wording when work is not a topic; couples as two."""

import re
from pathlib import Path

import pytest

from forms import STEPS, STEPS_BY_NAME, enabled_steps, form_kwargs, prune_answers
from forms.describe import describe_form
from forms.django_forms import StepInvalid, form_class, validate_payload
from forms.intake import consent_intro

TERMS = ["provider", "the life", "I'm a sex worker"]
TEMPLATES = Path(__file__).resolve().parents[2] / "plan_templates"
FIRST_PERSON = re.compile(r"\b(I|I'm|I've|my|me|us|our|we)\b")
# Fields whose choices the plan prints, said to the client.
PRINTED = [
    ("precautions", "precautions_used"),
    ("stigma_coping", "coping_strategies"),
    ("work_plans", "work_direction"),
    ("exit_planning", "exit_stage"),
    ("exit_barriers_step", "exit_barriers"),
    ("harm_reduction", "occupational_health"),
    ("harm_reduction", "money_banking"),
    ("harm_reduction", "rights"),
    ("partner", "couple_topics"),
    ("partner", "partner_stigma"),
    ("partner", "partner_support_needs"),
    ("supports", "current_supports"),
    ("supports", "referral_needs"),
]


def all_answers(kind: str, term: str) -> dict:
    """Answers that switch every step on for `kind`."""
    return {
        "consent": {"recording_preference": "full"},
        "about": {"work_focus": "central", "work_term": term},
        "partner": {"couple_topics": ["sex_work"]},
        "work_plans": {"work_direction": "continue"},
    }


def screen_texts(kind: str, term: str) -> list[str]:
    answers = all_answers(kind, term)
    texts = []
    for step in STEPS:
        form = form_class(step.name)(**form_kwargs(kind, answers))
        for field in form.fields.values():
            texts.append(str(field.label))
            texts.extend(str(label) for _, label in getattr(field, "choices", []))
    return texts


def test_no_placeholder_is_left_anywhere() -> None:
    assert "{work}" not in repr(STEPS)
    for path in TEMPLATES.rglob("*.html"):
        assert "{work" not in path.read_text(), path
        assert "work.term }}" not in path.read_text(), path


@pytest.mark.parametrize("kind", ["individual", "couple"])
@pytest.mark.parametrize("term", TERMS)
def test_the_clients_term_is_only_ever_a_quoted_label_on_screen(kind: str, term: str) -> None:
    texts = screen_texts(kind, term)
    shown = [t for t in texts if term in t]
    for text in shown:
        assert f"(you call it \u201c{term}\u201d)" in text
    if kind == "couple":
        assert "Work (you call it \u201c" + term + "\u201d)" in texts
    assert "What kinds of work do you do?" in texts or kind == "couple"


def test_without_a_term_the_couple_topic_is_named_plainly() -> None:
    form = form_class("partner")(**form_kwargs("couple", {}))
    assert dict(form.fields["couple_topics"].choices)["sex_work"] == "Sex work"


def test_work_self_wording_only_when_work_is_a_topic() -> None:
    general = form_class("stigma_coping")(**form_kwargs("individual", {}))
    labels = dict(general.fields["coping_strategies"].choices)
    assert labels["role_differentiation"] == "Keeping different parts of my life apart"
    assert "work" not in " ".join(labels.values()).lower()
    topic = form_class("stigma_coping")(**form_kwargs("individual", all_answers("x", "x")))
    assert "work self" in dict(topic.fields["coping_strategies"].choices)["role_differentiation"]


@pytest.mark.parametrize("field", ["exit_stage", "exit_barriers"])
def test_exit_questions_offer_id_rather_not_say(field: str) -> None:
    spec = STEPS_BY_NAME["exit_planning"].get_field(field)
    assert "prefer_not_to_say" in spec.codes
    assert "prefer_not_to_say" in spec.exclusive_codes


@pytest.mark.parametrize(("step", "field"), PRINTED)
def test_choices_the_plan_prints_are_said_to_the_client(step: str, field: str) -> None:
    step = "exit_planning" if step == "exit_barriers_step" else step
    for choice in STEPS_BY_NAME[step].get_field(field).choices:
        if choice.code in ("prefer_not_to_say", "none", "not_relevant"):
            continue
        assert not FIRST_PERSON.search(choice.for_plan()), (field, choice.code)
        if choice.general_label:
            assert not FIRST_PERSON.search(choice.for_plan(work_topic=False)), choice.code


def test_a_client_who_cannot_name_a_goal_yet_is_not_blocked() -> None:
    step = STEPS_BY_NAME["goals"]
    assert validate_payload(step, {"goals_unsure": True}) == {"goals_unsure": True}
    with pytest.raises(StepInvalid) as caught:
        validate_payload(step, {})
    assert "not sure yet" in caught.value.errors["client_goals"][0]
    # an unticked box says nothing
    assert validate_payload(step, {"client_goals": ["rest"]}) == {"client_goals": ["rest"]}


def test_consent_names_reporting_the_care_team_linked_systems_retention_and_erasure() -> None:
    intro = str(STEPS_BY_NAME["consent"].intro)
    for phrase in ("report", "care team", "another system", "7 years", "erase"):
        assert phrase in intro
    assert "30 days" in consent_intro(30)
    assert "1 year " in consent_intro(365)
    assert "until you or the clinic erase them" in consent_intro(0)


def test_the_wording_suggestions_box_only_shows_with_suggestions() -> None:
    assert "findings_acknowledged" not in form_class("review")().fields
    assert "findings_acknowledged" in form_class("review")(findings=True).fields


def test_couple_about_step_holds_each_person() -> None:
    form = form_class("about")(**form_kwargs("couple", {}))
    assert list(form.fields) == [
        "partner_a_name",
        "partner_a_pronouns",
        "partner_b_name",
        "partner_b_pronouns",
        "work_term",
    ]
    single = form_class("about")(**form_kwargs("individual", {}))
    assert "partner_a_name" not in single.fields
    with pytest.raises(StepInvalid) as caught:
        validate_payload(STEPS_BY_NAME["about"], {"preferred_name": "x"}, kind="couple")
    assert "preferred_name" in caught.value.errors
    described = next(s for s in describe_form("couple")["steps"] if s["name"] == "about")["fields"]
    assert [f["name"] for f in described][:4] == [
        "partner_a_name",
        "partner_a_pronouns",
        "partner_b_name",
        "partner_b_pronouns",
    ]


def test_couple_work_steps_only_when_the_couple_chose_work() -> None:
    names = [s.name for s in enabled_steps("couple", {"partner": {"couple_topics": ["trust"]}})]
    assert not {"work_context", "precautions", "work_plans", "harm_reduction"} & set(names)
    chose = {"partner": {"couple_topics": ["trust", "sex_work"]}}
    names = [s.name for s in enabled_steps("couple", chose)]
    assert {"work_context", "precautions", "work_plans"} <= set(names)
    # work_focus is the individual's question; a couple never answers it
    assert "work_focus" not in form_class("about")(**form_kwargs("couple", {})).fields


def test_couple_personal_questions_are_worded_per_person() -> None:
    chose = {"partner": {"couple_topics": ["sex_work"]}}
    for step, field in [
        ("work_context", "work_types"),
        ("precautions", "precautions_used"),
        ("work_plans", "work_direction"),
    ]:
        label = form_class(step)(**form_kwargs("couple", chose)).fields[field].label
        assert label.startswith("For the partner whose work this is:"), label
    stigma = form_class("stigma_coping")(**form_kwargs("couple", {})).fields
    assert "either of you" in stigma["stigma_experiences"].label
    assert "each of you" in stigma["coping_strategies"].label


def test_worker_description_needs_work_chosen_and_is_pruned_otherwise() -> None:
    partner = STEPS_BY_NAME["partner"]
    with pytest.raises(StepInvalid) as caught:
        validate_payload(
            partner,
            {"couple_topics": ["trust"], "worker_description": "mine"},
            kind="couple",
        )
    assert "worker_description" in caught.value.errors
    kept, _ = prune_answers(
        "couple", {"partner": {"couple_topics": ["trust"], "worker_description": "old"}}
    )
    assert kept == {"partner": {"couple_topics": ["trust"]}}


def test_partner_own_stigma_and_support_are_structured_and_optional() -> None:
    partner = STEPS_BY_NAME["partner"]
    for name in ("partner_stigma", "partner_support_needs"):
        spec = partner.get_field(name)
        assert spec.kind == "multi"
        assert not spec.required
        assert "prefer_not_to_say" in spec.codes
        assert "work" not in spec.label.lower()  # about them, never judging anyone's work


def test_job_autonomy_is_optional_and_non_leading() -> None:
    spec = STEPS_BY_NAME["work_context"].get_field("job_autonomy")
    assert not spec.required
    assert spec.codes[:4] == ["choose_clients", "choose_hours", "own_money", "say_no"]
    assert "prefer_not_to_say" in spec.codes


def test_couple_and_plan_wordings_pass_the_language_check() -> None:
    from language.checker import builtin_lexicon

    texts = []
    for step in STEPS:
        for field in step.fields:
            texts += [field.couple_label or "", str(step.intro)]
            for choice in field.choices:
                texts += [choice.for_plan(), choice.for_plan(work_topic=False)]
    flagged = [f.text for text in texts for f in builtin_lexicon().check(text)]
    assert flagged == []


def test_the_couple_questionnaire_asks_each_person_and_gates_work_on_the_topic() -> None:
    from fhir_r4.mapping import questionnaire

    groups = {g.linkId: g for g in questionnaire("couple").item}
    about = [q.linkId for q in groups["about"].item if q.type != "display"]
    assert about[:4] == [
        "partner_a_name",
        "partner_a_pronouns",
        "partner_b_name",
        "partner_b_pronouns",
    ]
    assert "preferred_name" not in about
    enable = groups["work_context"].enableWhen
    assert [(e.question, e.operator, e.answerCoding.code) for e in enable if e.answerCoding][
        :1
    ] == [("couple_topics", "=", "sex_work")]
    text = next(q.text for q in groups["work_context"].item if q.type != "display")
    assert text.startswith("For the partner whose work this is")
