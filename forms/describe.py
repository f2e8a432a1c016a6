"""The intake definition as plain JSON, for GET /api/v1/forms/{kind}/ and other readers."""

from typing import Any

from .intake import FORM_VERSION, STEPS
from .localize import localize_step
from .spec import Condition, Field, KindIs, Step, condition_for_kind
from .who_sees import who_sees_generic


def applies_to_kind(step: Step, kind: str) -> bool:
    """Steps whose only condition is another kind never apply; every other step might."""
    return not (isinstance(step.enabled_when, KindIs) and step.enabled_when.kind != kind)


def _field(spec: Field, step: Step, kind: str) -> dict[str, Any]:
    label = spec.couple_label if kind == "couple" and spec.couple_label else spec.label
    out: dict[str, Any] = {
        "name": spec.name,
        "type": spec.kind,
        "label": label,
        "general_label": None if kind == "couple" and spec.couple_label else spec.general_label,
        "help": spec.help,
        "why": spec.why,
        # Per intake, the wizard names the care team and any connected systems.
        "who_sees": who_sees_generic(step),
        # Stored only when this holds (the client's recording_preference); else not asked.
        "recorded_when": spec.recorded_when.describe() if spec.recorded_when else None,
        "required": spec.required,
        "optional": not spec.required,
        "required_unless": spec.required_unless,
        "enabled_when": spec.enabled_when.describe() if spec.enabled_when else None,
        "kept_unless_sent": spec.kept_unless_sent,
        "sensitivity": spec.sensitivity,
        "own_words": spec.own_words,
        "initial": None,
    }
    if spec.kind in ("text", "text_list"):
        out["max_length"] = spec.max_length
    if spec.kind == "text_list":
        out["min_items"], out["max_items"] = spec.min_items, spec.max_items
    if spec.choices:
        out["choices"] = [
            {
                "code": c.code,
                "label": c.couple_label if kind == "couple" and c.couple_label else c.label,
                "general_label": c.general_label,
                "plan_label": c.for_plan(),
                "shows_term": c.shows_term,
                "exclusive": c.exclusive,
            }
            for c in spec.choices
        ]
    return out


def describe_form(kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "version": FORM_VERSION,
        "terms": {
            "shows_term": (
                "the client's own term for their work is shown beside this choice as a quoted "
                "label: Work (you call it \u201c...\u201d)"
            )
        },
        "steps": [
            {
                "name": step.name,
                "title": step.title_for(kind=kind, work_topic=True),
                "intro": step.intro_for(kind=kind, work_topic=True),
                "clinician_only": step.clinician_only,
                "audience": step.audience,
                "enabled_when": _describe(step.enabled_when, kind),
                "fields": [_field(f, step, kind) for f in step.fields_for(kind)],
            }
            for step in map(localize_step, STEPS)
            if applies_to_kind(step, kind)
        ],
    }


def _describe(condition: Condition | None, kind: str) -> dict[str, Any] | None:
    if condition is None:
        return None
    resolved = condition_for_kind(condition, kind)
    return resolved.describe() if resolved is not None else {"never": True}
