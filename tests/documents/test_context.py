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
    assert context["work"] == {"term": "cam work", "direction": "Keep going as I am"}
    assert context["change"] is None
    assert context["strengths_precautions"] == ["Protecting my privacy", "Support from peers"]
    html = text_of(plan)
    assert "your cam work" in html
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
    assert couple["worker_words"] == "It is a job I am good at"


def test_goals_are_the_clients_words_verbatim(persona_plan) -> None:
    context = plan_context(persona_plan("not_a_topic"))
    assert [g["client_words"] for g in context["goals"]] == [
        "Get my sleep back",
        "Talk to my sister again",
    ]
