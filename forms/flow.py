"""Which steps are on for a given intake, and what follows from a changed answer."""

from typing import Any

from .intake import COUPLE_CHOSE_WORK, STEPS, WORK_FOCUS_IS_WORK, WORK_RECORDED
from .localize import tr
from .spec import Answers, Choice, Step

DEFAULT_WORK_TERM = "sex work"


def enabled_steps(kind: str, answers: Answers) -> list[Step]:
    return [step for step in STEPS if step.enabled(kind, answers)]


def client_steps(kind: str, answers: Answers) -> list[Step]:
    """The steps of the wizard the client sees: never a clinician-only step."""
    return [step for step in enabled_steps(kind, answers) if not step.clinician_only]


# A couple's joint questions about the work: each partner's private check comes first
# (GUIDELINES "Couples are two people"): the work steps, and the worker's own account.
COUPLE_WORK_STEPS = frozenset(
    {"work_context", "precautions", "work_plans", "harm_reduction", "exit_planning"}
)
PRIVATE_CHECK_STEPS = ("private_check_a", "private_check_b")


def asks_couple_about_work(kind: str, step: Step, answers: Answers | None = None) -> bool:
    """Whether this page (with these answers to it) asks a couple jointly about the work."""
    if kind != "couple":
        return False
    return step.name in COUPLE_WORK_STEPS or bool((answers or {}).get("worker_description"))


def needs_safety_prompt(step: Step, answers: Answers) -> bool:
    """True when an answer is one its field marks for a safety prompt (private checks)."""
    return any(answers.get(f.name) in f.safety_codes for f in step.fields if f.safety_codes)


def _kept_fields(step: Step, kind: str, kept: Answers, values: dict[str, Any]) -> dict[str, Any]:
    """A step's answers without the fields that do not apply: another kind's fields, and fields
    whose own condition (which may read this step's other answers) is false."""
    seen = {**kept, step.name: values}
    out = {}
    for name, value in values.items():
        try:
            spec = step.get_field(name)
        except KeyError:
            out[name] = value  # unknown to this version of the form: not ours to judge
            continue
        if not spec.applies(kind):
            continue
        if spec.enabled_when is not None and not spec.enabled_when(kind, seen):
            continue
        if not spec.recorded(kind, seen):  # the recording preference keeps it out
            continue
        out[name] = value
    return out


def prune_answers(kind: str, answers: Answers) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Drop the answers of every step that is now switched off, and of every field that the
    recording preference says is not stored.

    Steps are visited in order and each condition reads only earlier steps, so switching one
    step off (and dropping its answers) is seen by every later step in the same pass.
    Returns the kept answers and the names of the steps whose answers were deleted.
    """
    kept: dict[str, dict[str, Any]] = {}
    removed: list[str] = []
    for step in STEPS:
        if step.name not in answers:
            continue
        if step.enabled(kind, kept):
            kept[step.name] = _kept_fields(step, kind, kept, dict(answers[step.name]))
        else:
            removed.append(step.name)
    return kept, removed


def work_is_a_topic(answers: Answers) -> bool:
    """The client said work is part of why they came, or a couple chose it as a topic (each
    field belongs to one kind only, so the answers alone tell); and never when they asked for
    no work details."""
    chosen = WORK_FOCUS_IS_WORK("individual", answers) or COUPLE_CHOSE_WORK("couple", answers)
    return chosen and WORK_RECORDED("individual", answers)


def work_term(answers: Answers) -> str:
    """The client's own word for their work, verbatim; "sex work" when they gave none."""
    term = answers.get("about", {}).get("work_term") if WORK_RECORDED("", answers) else None
    return term if term else DEFAULT_WORK_TERM


def own_term(answers: Answers) -> str | None:
    """The client's own word for their work, verbatim, or None when they gave none (or asked
    for no work details)."""
    if not WORK_RECORDED("", answers):
        return None
    return answers.get("about", {}).get("work_term") or None


def term_label(base: str, term: str | None) -> str:
    """The client's term as a quoted label beside neutral words, never inside a sentence:
    `Your work (you call it “the life”)`."""
    if not term or term == DEFAULT_WORK_TERM:
        return tr(base)
    # The term itself is the client's own word: never translated.
    return tr("%(label)s (you call it “%(term)s”)") % {"label": tr(base), "term": term}


def choice_text(
    choice: Choice, *, term: str | None, work_topic: bool, plan: bool = False, couple: bool = False
) -> str:
    """A choice's words on screen (the client's voice, or a couple's) or in the plan (said to
    the client)."""
    if choice.shows_term and term and term != DEFAULT_WORK_TERM:
        return term_label("Work", term)
    return tr(choice.for_plan(work_topic) if plan else choice.for_screen(work_topic, couple))


def form_kwargs(
    kind: str, answers: Answers, *, step: Step | None = None, findings: bool = False
) -> dict[str, Any]:
    """What a step form needs to know about its intake, for the wizard and the step API: with
    `step`, also which of its fields an earlier answer switches off."""
    return {
        "kind": kind,
        "work_term": work_term(answers),
        "work_topic": work_is_a_topic(answers),
        "findings": findings,
        "not_asked": step.not_asked(kind, answers) if step is not None else [],
    }
