"""Which steps are on for a given intake, and what follows from a changed answer."""

from typing import Any

from .intake import STEPS, WORK_IS_A_TOPIC, WORK_RECORDED
from .spec import Answers, Step

DEFAULT_WORK_TERM = "sex work"


def enabled_steps(kind: str, answers: Answers) -> list[Step]:
    return [step for step in STEPS if step.enabled(kind, answers)]


def client_steps(kind: str, answers: Answers) -> list[Step]:
    """The steps of the wizard the client sees: never a clinician-only step."""
    return [step for step in enabled_steps(kind, answers) if not step.clinician_only]


def needs_safety_prompt(step: Step, answers: Answers) -> bool:
    """True when an answer is one its field marks for a safety prompt (private checks)."""
    return any(answers.get(f.name) in f.safety_codes for f in step.fields if f.safety_codes)


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
            dropped = set(step.not_recorded(kind, kept))
            kept[step.name] = {k: v for k, v in answers[step.name].items() if k not in dropped}
        else:
            removed.append(step.name)
    return kept, removed


def work_is_a_topic(answers: Answers) -> bool:
    """Work is a topic when the client said so, and never when they asked for no work details."""
    return WORK_IS_A_TOPIC("individual", answers) and WORK_RECORDED("individual", answers)


def work_term(answers: Answers) -> str:
    """The client's own word for their work, verbatim; "sex work" when they gave none."""
    term = answers.get("about", {}).get("work_term") if WORK_RECORDED("", answers) else None
    return term if term else DEFAULT_WORK_TERM
