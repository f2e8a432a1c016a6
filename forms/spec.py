"""The vocabulary the intake is declared in: fields, steps and conditions.

Everything here is plain data and pure predicates, so the wizard, the REST step API, the form
definition endpoint and the FHIR Questionnaire can all read one definition.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Answers = Mapping[str, Mapping[str, Any]]  # {step: {field: value}}
FieldKind = Literal["bool", "text", "choice", "multi", "text_list"]
Sensitivity = Literal["routine", "sensitive", "restricted"]
# Who a step's answers are for: "joint" steps are the client's (the wizard, the plan, exports);
# "author" is the clinician who wrote them, alone (the reflection); "care_team" are the
# clinicians on the client's care team, never the client's partner, never printed or exported
# (the couple private checks).
Audience = Literal["joint", "author", "care_team"]

PREFER_NOT_TO_SAY = "prefer_not_to_say"
TEXT_MAX = 4000
ITEM_MAX = 500


@dataclass(frozen=True)
class Choice:
    code: str
    label: str
    exclusive: bool = False  # chosen on its own only ("none", "prefer not to say")


@dataclass(frozen=True)
class Field:
    name: str
    kind: FieldKind
    label: str
    why: str = ""  # why we ask
    required: bool = False
    choices: tuple[Choice, ...] = ()
    sensitivity: Sensitivity = "routine"
    max_length: int = TEXT_MAX
    min_items: int = 0
    max_items: int = 20
    help: str = ""
    # The client's own words: kept verbatim, exempt from the language check.
    own_words: bool = False
    # Label used when work is not a topic for this client (Guideline 3); None: same label.
    general_label: str | None = None
    # Whether the answer is stored at all (the client's `recording_preference`): a field whose
    # condition is false is not asked in the wizard, dropped by the step API, and deleted.
    recorded_when: "Condition | None" = None
    # Answers that put a safety prompt on the care team's own page (private checks).
    safety_codes: frozenset[str] = frozenset()

    @property
    def who_sees(self) -> str:
        """The generic text for a joint question; per intake, forms.who_sees says it exactly."""
        from .who_sees import GENERIC

        return GENERIC

    def recorded(self, kind: str, answers: "Answers") -> bool:
        return self.recorded_when is None or self.recorded_when(kind, answers)

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.choices]

    @property
    def exclusive_codes(self) -> set[str]:
        return {c.code for c in self.choices if c.exclusive}


# Conditions: small pure predicates over the intake kind and earlier answers.


@dataclass(frozen=True)
class AnswerIn:
    """True when the answer to `step.field` is one of `values` (unanswered: False)."""

    step: str
    field: str
    values: frozenset[str]

    def __call__(self, kind: str, answers: Answers) -> bool:
        return answers.get(self.step, {}).get(self.field) in self.values

    def describe(self) -> dict[str, Any]:
        return {"field": f"{self.step}.{self.field}", "in": sorted(self.values)}


@dataclass(frozen=True)
class AnswerNotIn:
    """True unless the answer to `step.field` is one of `values` (unanswered: True)."""

    step: str
    field: str
    values: frozenset[str]

    def __call__(self, kind: str, answers: Answers) -> bool:
        return answers.get(self.step, {}).get(self.field) not in self.values

    def describe(self) -> dict[str, Any]:
        return {"field": f"{self.step}.{self.field}", "not_in": sorted(self.values)}


@dataclass(frozen=True)
class KindIs:
    kind: str

    def __call__(self, kind: str, answers: Answers) -> bool:
        return kind == self.kind

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind}


@dataclass(frozen=True)
class AllOf:
    conditions: tuple["Condition", ...]

    def __call__(self, kind: str, answers: Answers) -> bool:
        return all(c(kind, answers) for c in self.conditions)

    def describe(self) -> dict[str, Any]:
        return {"all": [c.describe() for c in self.conditions]}


Condition = AnswerIn | AnswerNotIn | KindIs | AllOf


def always(kind: str, answers: Answers) -> bool:
    return True


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    intro: str
    fields: tuple[Field, ...]
    enabled_when: Condition | None = None
    audience: Audience = "joint"
    general_title: str | None = None
    general_intro: str | None = None

    @property
    def clinician_only(self) -> bool:
        """Not part of the wizard the client sees: written on the clinician's own pages."""
        return self.audience != "joint"

    def enabled(self, kind: str, answers: Answers) -> bool:
        return self.enabled_when is None or self.enabled_when(kind, answers)

    def not_recorded(self, kind: str, answers: Answers) -> list[str]:
        """The fields of this step that the recording preference says are not stored."""
        return [f.name for f in self.fields if not f.recorded(kind, answers)]

    def get_field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)
