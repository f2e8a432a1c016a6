"""Which steps are on for a given intake, and what follows from a changed answer."""

from typing import Any

from .intake import STEPS, WORK_IS_A_TOPIC
from .spec import Answers, Step

DEFAULT_WORK_TERM = "sex work"


def enabled_steps(kind: str, answers: Answers) -> list[Step]:
    return [step for step in STEPS if step.enabled(kind, answers)]


def prune_answers(kind: str, answers: Answers) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Drop the answers of every step that is now switched off.

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
            kept[step.name] = dict(answers[step.name])
        else:
            removed.append(step.name)
    return kept, removed


def work_is_a_topic(answers: Answers) -> bool:
    return WORK_IS_A_TOPIC("individual", answers)


def work_term(answers: Answers) -> str:
    """The client's own word for their work, verbatim; "sex work" when they gave none."""
    term = answers.get("about", {}).get("work_term")
    return term if term else DEFAULT_WORK_TERM
