"""The plan as the PDF shows it: a pure function from a plan to a template context.

What the plan says and never says (GUIDELINES.md) is decided here: the client's own term for
their work; nothing about work when it is not a topic; nothing about change of work unless the
client chose to leave or reduce; never the clinician's reflection (it is not even read here).
"""

from typing import Any

from forms import STEPS_BY_NAME, work_is_a_topic, work_term
from plans.models import PlanStatus, StepOwner, TreatmentPlan
from plans.selectors import choice_label, goal_progress, plan_representation
from referrals.selectors import caution_lines

WHO = dict(StepOwner.choices)
CHANGING = {"leave", "reduce"}
# Directions that say nothing to put in a plan.
SILENT_DIRECTIONS = {None, "not_relevant", "prefer_not_to_say"}

# Practical pointers for each barrier the client names (Guideline 9): resources, not reasons.
BARRIER_HELP = {
    "income": "Advice on income, benefits and budgeting during the change.",
    "housing": "Housing support that does not depend on what work you do.",
    "criminal_record": "Legal help with record relief (sealing or expungement) where it exists.",
    "id_documents": "Help getting or replacing ID documents.",
    "work_history_gap": "Help describing your skills and experience for applications.",
    "education": "Courses and training that fit around your life.",
    "social_network": "Peer groups and communities to stay connected with.",
    "childcare": "Childcare support and advice.",
    "immigration": "Confidential immigration advice.",
    "other": "We will look for the right help together.",
}


def _label(step: str, field: str, code: str | None, term: str) -> str:
    if not code:
        return ""
    return choice_label(STEPS_BY_NAME[step].get_field(field), code).replace("{work}", term)


def _labels(step: str, field: str, codes: list[str], term: str) -> list[str]:
    return [_label(step, field, c, term) for c in codes if c not in ("prefer_not_to_say", "none")]


def _progress(ratings: list[dict[str, Any]]) -> dict[str, Any]:
    """A goal's ratings over reviews, and the bars of its small chart (numbers only: the
    template draws them as inline SVG; no client text goes into the drawing)."""
    ratings = ratings[-12:]  # the last twelve reviews fit the width of a page
    bars = [
        {
            "x": 30 + i * 26,
            "y": 52 - r["progress"] * 12,
            "height": max(r["progress"] * 12, 1),
            "short_date": r["date"][5:],
        }
        for i, r in enumerate(ratings)
    ]
    return {
        "progress": ratings,
        "progress_chart": {"width": 40 + 26 * len(bars), "bars": bars},
    }


def plan_context(plan: TreatmentPlan) -> dict[str, Any]:
    answers = plan.intake.answers
    topic = work_is_a_topic(answers)
    term = work_term(answers)
    rep = plan_representation(plan)
    progress = goal_progress(plan)
    about = answers.get("about", {})
    direction = answers.get("work_plans", {}).get("work_direction") if topic else None

    context: dict[str, Any] = {
        "title": "Care plan",
        "kind": plan.intake.kind,
        "name": about.get("preferred_name") or plan.client.display_name,
        "pronouns": about.get("pronouns") or plan.client.pronouns,
        "version": plan.version,
        "agreed": plan.status == PlanStatus.AGREED,
        "updated": plan.updated_at.date().isoformat(),
        "review_date": rep["review_date"],
        "goals": [
            {
                **goal,
                "steps": [{**s, "who": WHO.get(s["who"], s["who"])} for s in goal["steps"]],
                **_progress(progress.get(goal["id"], [])),
            }
            for goal in rep["goals"]
        ],
        "strengths_precautions": [
            s["label"] for s in rep["strengths"] if s["source"] == "precautions"
        ],
        "strengths_coping": [s["label"] for s in rep["strengths"] if s["source"] == "coping"],
        "strengths_notes": rep["strengths_notes"],
        "supports": [s["label"] for s in rep["supports"]],
        "supports_notes": rep["supports_notes"],
        "safety_plan": rep["safety_plan"],
        "referral_needs": _labels(
            "supports",
            "referral_needs",
            answers.get("supports", {}).get("referral_needs", []),
            term,
        ),
        "referrals": [
            {
                "name": r.agency.name,
                "caution": " ".join(caution_lines(r.agency, work_topic=topic, work_term=term)),
                "client_decision": r.get_client_decision_display(),
                "note": r.note,
            }
            for r in plan.referrals.all()
        ],
        "agreement": rep["agreement"],
        "work": None,
        "change": None,
        "couple": None,
    }
    if topic and direction not in SILENT_DIRECTIONS:
        context["work"] = {
            "term": term,
            "direction": _label("work_plans", "work_direction", direction, term),
        }
    if topic and direction in CHANGING:
        exit_answers = answers.get("exit_planning", {})
        context["change"] = {
            "stage": _label("exit_planning", "exit_stage", exit_answers.get("exit_stage"), term),
            "barriers": [
                {
                    "label": _label("exit_planning", "exit_barriers", code, term),
                    "help": BARRIER_HELP.get(code, ""),
                }
                for code in exit_answers.get("exit_barriers", [])
            ],
            "goals": exit_answers.get("exit_goals", []),
        }
    if plan.intake.kind == "couple":
        partner = answers.get("partner", {})
        context["couple"] = {
            "structure": _labels(
                "partner", "relationship_structure", partner.get("relationship_structure", []), term
            ),
            "topics": _labels("partner", "couple_topics", partner.get("couple_topics", []), term),
            "partner_words": partner.get("partner_concerns", ""),
            "worker_words": partner.get("worker_description", ""),
        }
    return context
