"""What each plan says and never says, checked on the HTML the PDF is made from."""

import pytest

from documents.context import plan_context
from documents.services import plan_html

pytestmark = pytest.mark.django_db


def text_of(plan) -> str:
    return plan_html(plan).lower()


def test_work_not_a_topic_leaves_work_out_entirely(persona_plan) -> None:
    plan = persona_plan("not_a_topic")
    context = plan_context(plan)
    assert context["work"] is None
    assert context["change"] is None
    html = text_of(plan)
    for word in ("sex", "escorting", "exit", "leaving", "your work"):
        assert word not in html
    assert "get my sleep back" in html


def test_reflection_is_never_in_the_plan(persona_plan) -> None:
    assert "private-reflection-text" not in text_of(persona_plan("not_a_topic"))


def test_continuing_uses_the_clients_term_and_says_nothing_about_change(persona_plan) -> None:
    plan = persona_plan("continuing")
    context = plan_context(plan)
    assert context["work"] == {
        "term": "cam work",
        "heading": "Your work (you call it \u201ccam work\u201d)",
        "direction": "Keep going as you are",
    }
    assert context["change"] is None
    assert context["strengths_precautions"] == ["Protecting your privacy", "Support from peers"]
    html = text_of(plan)
    assert "your work (you call it \u201ccam work\u201d)" in html
    assert "your cam work" not in html
    for word in ("exit", "leaving", "getting out", "sex work"):
        assert word not in html


def test_leaving_shows_change_as_a_process_with_resources(persona_plan) -> None:
    plan = persona_plan("leaving")
    context = plan_context(plan)
    change = context["change"]
    assert change["stage"] == "Planning"
    assert change["goals"] == ["Finish my nursing course"]
    assert next(b["label"] for b in change["barriers"]).startswith("A criminal record")
    assert "record relief" in change["barriers"][0]["help"]
    html = plan_html(plan)
    assert "normal part of it, not a failure" in html
    for phrase in ("benefits of leaving", "relapse", "exit"):
        assert phrase not in html.lower()


def test_couple_plan_keeps_both_accounts_separate_and_neutral(persona_plan) -> None:
    context = plan_context(persona_plan("couple"))
    couple = context["couple"]
    assert couple["structure"] == ["Polyamorous", "Kink is part of it"]
    assert couple["topics"] == ["Communication", "Trust"]  # sex work was not chosen
    assert couple["partner_words"] == "I worry what my parents think"
    assert couple["worker_words"] == ""  # work is not their topic: never asked, never printed
    assert couple["partner_stigma"] == ["Family or friends pulled away from you"]
    assert context["people"] == [
        {"name": "Sam", "pronouns": "she/her"},
        {"name": "Alex", "pronouns": "they/them"},
    ]
    assert context["work"] is None
    assert context["harm_reduction"] is None


def test_couple_who_chose_work_get_the_workers_account(persona_plan) -> None:
    context = plan_context(persona_plan("couple_work"))
    assert context["couple"]["worker_words"] == "It is a job I am good at"
    assert context["couple"]["topics"] == [
        "Communication",
        "Work (you call it \u201cthe life\u201d)",
    ]
    assert context["work"]["heading"] == "Your work (you call it \u201cthe life\u201d)"


def test_continuing_client_gets_harm_reduction_not_exit(persona_plan) -> None:
    context = plan_context(persona_plan("continuing_hr"))
    hr = context["harm_reduction"]
    assert hr["strengthen"] == "Checking in with a friend after each booking"
    assert hr["occupational"] == ["Feeling less worn out", "Keeping the boundaries you want"]
    assert hr["sexual_health"] is True
    assert hr["rights"] == ["With the police", "With landlords and housing"]
    assert context["change"] is None
    assert context["safety"] is None


def test_leaving_client_keeps_what_they_would_strengthen(alice, alices_client) -> None:
    from tests.conftest import CONSENT, completed_plan

    plan = completed_plan(
        alice,
        alices_client,
        "individual",
        {
            "consent": CONSENT,
            "about": {"work_focus": "central"},
            "goals": {"client_goals": ["x"]},
            "precautions": {"precautions_to_strengthen": "Saving a little each week"},
            "work_plans": {"work_direction": "reduce"},
        },
    )
    context = plan_context(plan)
    assert context["harm_reduction"] is None
    assert context["strengthen"] == "Saving a little each week"
    assert "Saving a little each week" in plan_html(plan)


def test_safety_offer_without_work_says_nothing_about_work(alice, alices_client) -> None:
    from tests.conftest import CONSENT, completed_plan

    plan = completed_plan(
        alice,
        alices_client,
        "individual",
        {
            "consent": CONSENT,
            "about": {"work_focus": "no"},
            "goals": {"client_goals": ["x"]},
            "stigma_coping": {"stigma_experiences": ["violence"]},
        },
    )
    safety = plan_context(plan)["safety"]
    assert safety["told"] == "You told us that someone was violent towards you."
    html = plan_html(plan).lower()
    assert "support to stay safe" in html
    for word in ("bad-date", "sex", "line of work", "peer-led"):
        assert word not in html


def test_no_safety_offer_without_such_answers(persona_plan) -> None:
    assert plan_context(persona_plan("not_a_topic"))["safety"] is None


def test_goals_are_the_clients_words_verbatim(persona_plan) -> None:
    context = plan_context(persona_plan("not_a_topic"))
    assert [g["client_words"] for g in context["goals"]] == [
        "Get my sleep back",
        "Talk to my sister again",
    ]


@pytest.mark.parametrize(
    ("term", "text", "names"),
    [
        ("dancing", "I'd like to dance less", True),
        ("dancing", "the other dancers", True),
        ("dancing", "Find abundance", False),  # only inside another word
        ("“dancing”", "Danced all night", True),  # typed in quotes, any case
        ("modelling", "two models", True),
        ("stripping", "strip less", True),
        ("dates", "a date a week", True),
        ("dates", "software updates", False),
        ("cam work", "cam-working at night", True),
        ("sw", "sw hours", True),  # too short for other forms: the word itself only
        ("sw", "swim more", False),
        ("it", "time with friends", False),
        # Spanish: the term's other forms too
        ("bailar", "Ahorrar dinero del baile", True),
        ("bailar", "Bailo menos los fines de semana", True),
        ("bailar", "Hablar con otras bailarinas", True),
        ("bailar", "Dormir mejor", False),
        ("trabajo", "trabajadoras de la calle", True),
    ],
)
def test_the_clients_term_is_found_in_its_other_forms_and_only_as_words(term, text, names) -> None:
    from documents.context import names_work

    assert names_work(text, term) is names
