"""Running the check for a clinic (built-in entries plus the clinic's own) and dismissals."""

import uuid
from collections import Counter
from typing import Any

from django.contrib.auth.models import User

from forms import work_term
from plans.models import TreatmentPlan

from .checker import Entry, Finding, Lexicon, builtin_entries, builtin_lexicon
from .models import ClinicLexiconEntry, Dismissal

# The languages the lexicon is written for. Its words are English: text in another language is
# still read for them (a clinician may write a Spanish-speaking client's plan in English, and
# the clinic's copy is English), and the answer says that the language's own words are not
# checked (NOT_CHECKED). A Spanish word is never an English entry, so nothing is made up.
LEXICON_LANGUAGES = frozenset({"en"})
NOT_CHECKED = "only English words are checked: there is no word list for this language"


def checks_language(language: str) -> bool:
    return language in LEXICON_LANGUAGES


# After this many dismissals of the same term, suggest talking it through (Guideline 10).
CONSULTATION_PROMPT_AFTER = 3


def lexicon_for(clinic_id: uuid.UUID | None) -> Lexicon:
    extra = (
        [
            Entry(
                e.term,
                tuple(f.strip() for f in e.forms.split(",") if f.strip()),
                e.suggestion,
                e.reason,
            )
            for e in ClinicLexiconEntry.objects.filter(clinic_id=clinic_id)
        ]
        if clinic_id
        else []
    )
    return Lexicon([*builtin_entries(), *extra]) if extra else builtin_lexicon()


def language_check(
    *,
    clinic_id: uuid.UUID | None,
    text: str,
    client_terms: list[str] | tuple[str, ...] = (),
    language: str = "en",
) -> list[Finding]:
    """Findings in `text`, whatever `language` it is said to be in (see LEXICON_LANGUAGES)."""
    return lexicon_for(clinic_id).check(text, client_terms)


def dismissal_record(*, user: User, term: str, reason: str) -> bool:
    """Record a dismissal; True when this clinician keeps dismissing the same term."""
    Dismissal.objects.create(user=user, term=term[:60], reason=reason[:200])
    return _dismissal_counts(user)[term[:60]] >= CONSULTATION_PROMPT_AFTER


def plan_client_terms(plan: TreatmentPlan) -> list[str]:
    """The client's own words that may appear in clinician-written plan text: their term for
    their work, their goals, and the answers the plan was drafted from (coping notes, their
    back-up plan), and each lexicon word found in them. Exempt wherever they appear."""
    answers = plan.intake.answers
    terms = [*(g.client_words for g in plan.goals.all())]
    if answers.get("about", {}).get("work_term"):
        terms.append(work_term(answers))
    terms += [
        answers.get("stigma_coping", {}).get("coping_notes", ""),
        answers.get("supports", {}).get("safety_plan", ""),
    ]
    terms = [t for t in terms if isinstance(t, str) and t.strip()]
    # A lexicon word the client used in their own words is their term wherever it appears
    # (the clinician's restatement may reuse it).
    lexicon = lexicon_for(plan.clinic_id)
    used = {f.text.lower() for text in terms for f in lexicon.check(text)}
    return terms + sorted(used)


def plan_texts(plan: TreatmentPlan) -> list[tuple[str, str, str]]:
    """Every clinician-written text of a plan, as (field path, label, text)."""
    texts = [
        ("strengths_notes", "Strengths: notes", plan.strengths_notes),
        ("supports_notes", "Supports: notes", plan.supports_notes),
        ("safety_plan", "If things get hard", plan.safety_plan),
    ]
    for g, goal in enumerate(plan.goals.all()):
        texts.append(
            (
                f"goals[{g}].clinical_restatement",
                f"Goal {g + 1}: clinician's restatement",
                goal.clinical_restatement,
            )
        )
        for s, step in enumerate(goal.steps.all()):
            path, label = f"goals[{g}].steps[{s}]", f"Goal {g + 1}: step {s + 1}"
            texts.append((f"{path}.description", label, step.description))
            texts.append((f"{path}.frequency", f"{label} (how often)", step.frequency))
    for r, referral in enumerate(plan.referrals.select_related("agency")):
        texts.append(
            (f"referrals[{r}].note", f"Referral to {referral.agency.name}: note", referral.note)
        )
    return [(path, label, text) for path, label, text in texts if text]


def plan_field_findings(plan: TreatmentPlan) -> list[tuple[str, str, Finding]]:
    """Findings in what the clinician wrote in a plan (every field, referral notes included),
    as (field path, label, finding). The client's own words (their term for their work, their
    goals, the intake answers the plan was drafted from, anything in quotes) are never findings."""
    client_terms = plan_client_terms(plan)
    lexicon = lexicon_for(plan.clinic_id)
    return [
        (path, label, finding)
        for path, label, text in plan_texts(plan)
        for finding in lexicon.check(text, client_terms)
    ]


def plan_findings(plan: TreatmentPlan) -> list[tuple[str, Finding]]:
    """Findings with a readable label of where they are (the web review page)."""
    return [(label, finding) for _path, label, finding in plan_field_findings(plan)]


def plan_findings_for_api(plan: TreatmentPlan) -> list[dict[str, Any]]:
    """Findings as the API answers them: which field, where in it, and the suggestion."""
    return [
        {"field": path, "where": label, **finding.as_dict()}
        for path, label, finding in plan_field_findings(plan)
    ]


def consultation_prompts(*, user: User) -> list[str]:
    """Terms this clinician has kept dismissing: a gentle pointer to consultation."""
    counts = _dismissal_counts(user)
    return sorted(term for term, n in counts.items() if n >= CONSULTATION_PROMPT_AFTER)


def _dismissal_counts(user: User) -> Counter[str]:
    """Dismissals per term for one clinician, counted here: terms are encrypted at rest."""
    return Counter(Dismissal.objects.filter(user=user).values_list("term", flat=True))
