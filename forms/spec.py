"""The vocabulary the intake is declared in: fields, steps and conditions.

Everything here is plain data and pure predicates, so the wizard, the REST step API, the form
definition endpoint and the FHIR Questionnaire can all read one definition.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal


def newlines(text: str) -> str:
    """Line breaks as "\n". A browser sends a textarea's as "\r\n" (HTML's form encoding,
    not the client's words), which would also count twice against the length a box allows."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


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
    # Said to the client in the plan ("you", "your") when `label` is in the client's voice.
    plan_label: str | None = None
    exclusive: bool = False  # chosen on its own only ("none", "prefer not to say")
    # Label used when work is not a topic for this client (Guideline 3); None: same label.
    general_label: str | None = None
    general_plan_label: str | None = None
    # The client's own term is shown beside this label, quoted: "Work (you call it “…”)".
    shows_term: bool = False
    # Said on a couple's screen, for both of them, where `label` speaks for one ("I", "my").
    couple_label: str | None = None

    def for_screen(self, work_topic: bool = True, couple: bool = False) -> str:
        if couple and self.couple_label:
            return self.couple_label
        return self.label if work_topic or not self.general_label else self.general_label

    def for_plan(self, work_topic: bool = True) -> str:
        if not work_topic and self.general_label:
            return self.general_plan_label or self.general_label
        return self.plan_label or self.label


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
    # Label for a couple, addressed to each person (or to the one it concerns), never to
    # two people in the singular; None: the individual wording fits both.
    couple_label: str | None = None
    # The only kind of intake that asks this field; None: every kind.
    only_kind: str | None = None
    # A field-level condition over the answers: when false the field is not kept. One that
    # reads only earlier steps decides whether the field is asked at all (Step.not_asked); one
    # that reads its own step is checked against the answers saved with it.
    enabled_when: "Condition | None" = None
    # Only a save that sends this field changes it: a save that leaves it out keeps it
    # (the worker's own account, couples guideline 3).
    kept_unless_sent: bool = False
    # Shown only when there is something to acknowledge (wording findings).
    only_with_findings: bool = False
    # Needed unless this bool field of the same step is ticked ("I'm not sure yet").
    required_unless: str | None = None

    def applies(self, kind: str) -> bool:
        return self.only_kind is None or self.only_kind == kind

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
class AnswerHas:
    """True when the multi answer `step.field` includes `value` (unanswered: False)."""

    step: str
    field: str
    value: str

    def __call__(self, kind: str, answers: Answers) -> bool:
        chosen = answers.get(self.step, {}).get(self.field) or []
        return isinstance(chosen, list) and self.value in chosen

    def describe(self) -> dict[str, Any]:
        return {"field": f"{self.step}.{self.field}", "has": self.value}


@dataclass(frozen=True)
class ByKind:
    """A different condition per intake kind (a kind not listed: never)."""

    by_kind: tuple[tuple[str, "Condition"], ...]

    def for_kind(self, kind: str) -> "Condition | None":
        return dict(self.by_kind).get(kind)

    def __call__(self, kind: str, answers: Answers) -> bool:
        condition = self.for_kind(kind)
        return condition is not None and condition(kind, answers)

    def describe(self) -> dict[str, Any]:
        return {"by_kind": {kind: c.describe() for kind, c in self.by_kind}}


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


Condition = AnswerIn | AnswerNotIn | AnswerHas | KindIs | AllOf | ByKind


def condition_for_kind(condition: Condition, kind: str) -> Condition | None:
    """`condition` with every per-kind part resolved for `kind` (None: never true for it), for
    readers that describe conditions rather than evaluate them (form definition, FHIR)."""
    if isinstance(condition, ByKind):
        part = condition.for_kind(kind)
        return None if part is None else condition_for_kind(part, kind)
    if isinstance(condition, AllOf):
        parts = [condition_for_kind(c, kind) for c in condition.conditions]
        if any(p is None for p in parts):
            return None
        return AllOf(tuple(p for p in parts if p is not None))
    return condition


def condition_steps(condition: Condition) -> frozenset[str]:
    """The steps whose answers a condition reads."""
    if isinstance(condition, AllOf):
        return frozenset().union(*(condition_steps(c) for c in condition.conditions))
    if isinstance(condition, ByKind):
        return frozenset().union(*(condition_steps(c) for _, c in condition.by_kind))
    if isinstance(condition, KindIs):
        return frozenset()
    return frozenset({condition.step})


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
    # A couple's title, where the step's speaks to one person ("About you both").
    couple_title: str | None = None
    # A couple's intro, where the step's speaks to one person (never naming work: it is read
    # before the couple choose their topics).
    couple_intro: str | None = None

    def title_for(self, *, kind: str, work_topic: bool) -> str:
        """The title as this intake's client sees it (untranslated): a couple's own, or the
        general one when work is not a topic."""
        if kind == "couple" and self.couple_title:
            return self.couple_title
        if not work_topic and self.general_title:
            return self.general_title
        return self.title

    def intro_for(self, *, kind: str, work_topic: bool) -> str:
        """The intro as this intake's client reads it (untranslated), as `title_for`."""
        if kind == "couple" and self.couple_intro:
            return self.couple_intro
        if not work_topic and self.general_intro:
            return self.general_intro
        return self.intro

    @property
    def clinician_only(self) -> bool:
        """Not part of the wizard the client sees: written on the clinician's own pages."""
        return self.audience != "joint"

    def enabled(self, kind: str, answers: Answers) -> bool:
        return self.enabled_when is None or self.enabled_when(kind, answers)

    def not_asked(self, kind: str, answers: Answers) -> list[str]:
        """The fields of this step that an earlier answer switches off: a field whose condition
        reads only other steps, false for these answers (not "what would you like to change
        about how you work" after "keep going as I am")."""
        return [
            f.name
            for f in self.fields
            if f.enabled_when is not None
            and self.name not in condition_steps(f.enabled_when)
            and not f.enabled_when(kind, answers)
        ]

    def not_recorded(self, kind: str, answers: Answers) -> list[str]:
        """The fields of this step that the recording preference says are not stored."""
        return [f.name for f in self.fields if not f.recorded(kind, answers)]

    def fields_for(self, kind: str) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.applies(kind))

    def get_field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)
