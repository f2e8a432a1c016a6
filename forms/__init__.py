"""The intake definition: ordered steps, fields, choice codes and the conditions between them.

This package only describes and validates; it never writes to a database.
"""

from .flow import (
    PRIVATE_CHECK_STEPS,
    asks_couple_about_work,
    client_steps,
    enabled_steps,
    form_kwargs,
    needs_safety_prompt,
    own_term,
    prune_answers,
    term_label,
    work_is_a_topic,
    work_term,
)
from .intake import FORM_VERSION, KINDS, STEPS, STEPS_BY_NAME
from .spec import PREFER_NOT_TO_SAY, Choice, Field, Step

__all__ = [
    "FORM_VERSION",
    "KINDS",
    "PREFER_NOT_TO_SAY",
    "PRIVATE_CHECK_STEPS",
    "STEPS",
    "STEPS_BY_NAME",
    "Choice",
    "Field",
    "Step",
    "asks_couple_about_work",
    "client_steps",
    "enabled_steps",
    "form_kwargs",
    "needs_safety_prompt",
    "own_term",
    "prune_answers",
    "term_label",
    "work_is_a_topic",
    "work_term",
]
