"""The intake definition as plain JSON, for GET /api/v1/forms/{kind}/ and other readers."""

from typing import Any

from .intake import FORM_VERSION, STEPS
from .spec import Field, KindIs, Step
from .who_sees import who_sees_generic


def applies_to_kind(step: Step, kind: str) -> bool:
    """Steps whose only condition is another kind never apply; every other step might."""
    return not (isinstance(step.enabled_when, KindIs) and step.enabled_when.kind != kind)


def _field(spec: Field, step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": spec.name,
        "type": spec.kind,
        "label": spec.label,
        "general_label": spec.general_label,
        "help": spec.help,
        "why": spec.why,
        # Per intake, the wizard names the care team and any connected systems.
        "who_sees": who_sees_generic(step),
        # Stored only when this holds (the client's recording_preference); else not asked.
        "recorded_when": spec.recorded_when.describe() if spec.recorded_when else None,
        "required": spec.required,
        "optional": not spec.required,
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
            {"code": c.code, "label": c.label, "exclusive": c.exclusive} for c in spec.choices
        ]
    return out


def describe_form(kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "version": FORM_VERSION,
        "placeholders": {"{work}": "the client's own term for their work, or 'sex work'"},
        "steps": [
            {
                "name": step.name,
                "title": step.title,
                "intro": step.intro,
                "clinician_only": step.clinician_only,
                "audience": step.audience,
                "enabled_when": step.enabled_when.describe() if step.enabled_when else None,
                "fields": [_field(f, step) for f in step.fields],
            }
            for step in STEPS
            if applies_to_kind(step, kind)
        ],
    }
