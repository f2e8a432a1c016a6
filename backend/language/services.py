"""Running the check for a clinic (built-in entries plus the clinic's own) and dismissals."""

import uuid
from collections import Counter

from django.contrib.auth.models import User

from forms import work_term
from plans.models import TreatmentPlan

from .checker import Entry, Finding, Lexicon, builtin_entries, builtin_lexicon
from .models import ClinicLexiconEntry, Dismissal

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
    *, clinic_id: uuid.UUID | None, text: str, client_terms: list[str] | tuple[str, ...] = ()
) -> list[Finding]:
    return lexicon_for(clinic_id).check(text, client_terms)


def dismissal_record(*, user: User, term: str, reason: str) -> bool:
    """Record a dismissal; True when this clinician keeps dismissing the same term."""
    Dismissal.objects.create(user=user, term=term[:60], reason=reason[:200])
    return _dismissal_counts(user)[term[:60]] >= CONSULTATION_PROMPT_AFTER


def plan_findings(plan: TreatmentPlan) -> list[tuple[str, Finding]]:
    """Findings in what the clinician wrote in a plan. The client's own words (goals, their
    term for their work, notes they gave) are not checked, and exempt where quoted."""
    answers = plan.intake.answers
    client_terms = [work_term(answers), *(g.client_words for g in plan.goals.all())]
    texts = []
    for number, goal in enumerate(plan.goals.all(), start=1):
        texts.append((f"Goal {number}: clinician's restatement", goal.clinical_restatement))
        texts += [(f"Goal {number}: step", step.description) for step in goal.steps.all()]
    lexicon = lexicon_for(plan.clinic_id)
    return [
        (where, finding) for where, text in texts for finding in lexicon.check(text, client_terms)
    ]


def consultation_prompts(*, user: User) -> list[str]:
    """Terms this clinician has kept dismissing: a gentle pointer to consultation."""
    counts = _dismissal_counts(user)
    return sorted(term for term, n in counts.items() if n >= CONSULTATION_PROMPT_AFTER)


def _dismissal_counts(user: User) -> Counter[str]:
    """Dismissals per term for one clinician, counted here: terms are encrypted at rest."""
    return Counter(Dismissal.objects.filter(user=user).values_list("term", flat=True))
