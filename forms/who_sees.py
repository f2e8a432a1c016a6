""" "Who sees this": the text each question shows, generated from who can really read the answer.

The facts come from the backend (who is on the client's care team, whether the clinic has
connected other systems); the wording lives here, as data, so that the wizard, the form
definition and the FHIR Questionnaire say the same thing. Nothing here promises more than the
access rules enforce: no "only if you both choose", no "only you and your clinician" when more
people or systems can read the record.
"""

from dataclasses import dataclass

from .localize import _mark as _
from .localize import tr
from .spec import Step

# For readers that have no intake in hand (the form definition, the FHIR Questionnaire).
GENERIC = _(
    "You and the clinicians on your care team. If your clinic connects other systems, "
    "such as its records system, they can receive it too."
)

TEXTS = {
    # The clinician's reflection: its author alone.
    "author": _(
        "Only you (here, or through the API with your own token). It is never printed, never "
        "in FHIR or bulk exports, and never shown to anyone else."
    ),
    # Couple private checks: the care team, never the partner, never printed or exported.
    "care_team": _(
        "Only the clinicians on the care team{names} (here, or through the API with their "
        "own tokens). Never the partner, never printed in the plan, never in FHIR or bulk "
        "exports."
    ),
    "joint_one": _("You and your clinician{names}."),
    "joint_many": _("You and the clinicians on your care team{names}."),
    # A couple's joint questions: answered together, so each partner sees the other's answer.
    "couple_one": _(
        "You both (each of you sees what the other answers) and your clinician{names}."
    ),
    "couple_many": _(
        "You both (each of you sees what the other answers) and the clinicians on your care "
        "team{names}."
    ),
    "connected": _(
        " Your clinic also connects other systems, such as its records system, "
        "that can receive your answers."
    ),
}


@dataclass(frozen=True)
class Sharing:
    """Who can read an intake's answers today: names of the care team's clinicians, and
    whether any other system is connected to the clinic (API tokens, webhooks, EHR clients)."""

    readers: tuple[str, ...]
    connected: bool
    couple: bool = False  # a couple's intake: its joint answers are seen by both partners


def _names(readers: tuple[str, ...]) -> str:
    if not readers:
        return ""
    if len(readers) == 1:
        return f" ({readers[0]})"
    return " ({})".format(
        tr("%(names)s and %(last)s") % {"names": ", ".join(readers[:-1]), "last": readers[-1]}
    )


def who_sees(step: Step, sharing: Sharing) -> str:
    """The true "who sees this" text for the answers of `step` in one intake."""
    if step.audience == "author":
        return tr(TEXTS["author"])
    names = _names(sharing.readers)
    if step.audience == "care_team":
        return tr(TEXTS["care_team"]).format(names=names)
    key = ("couple" if sharing.couple else "joint") + (
        "_one" if len(sharing.readers) <= 1 else "_many"
    )
    text = tr(TEXTS[key]).format(names=names)
    if sharing.connected:
        text += tr(TEXTS["connected"])
    return text


def who_sees_generic(step: Step) -> str:
    if step.audience == "author":
        return tr(TEXTS["author"])
    if step.audience == "care_team":
        return tr(TEXTS["care_team"]).format(names="")
    return tr(GENERIC)
