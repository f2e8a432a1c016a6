"""Django form classes generated from the step definitions: the one validator for wizard and API."""

import re
from collections.abc import Collection, Mapping
from functools import cache
from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.datastructures import MultiValueDict
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .flow import DEFAULT_WORK_TERM, choice_text
from .intake import STEPS_BY_NAME
from .localize import tr
from .spec import Field, Step, condition_steps, newlines

LIST_HARD_CAP = 100  # a payload past this is refused before any per-item work

# What our field names look like (forms/intake.py): lower-case identifiers.
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,59}")


def unknown_field_errors(
    unknown: Collection[Any], message: str, where: str
) -> dict[str, list[str]]:
    """The one rule for names sent that are not fields, across the API: a name shaped like ours
    (a typo, a field of another request) is named back with `message`; anything else could be
    something a client said (or any size), so it is only counted, never repeated."""
    names = [str(key) for key in unknown]
    errors = {key: [message] for key in sorted(filter(FIELD_NAME.fullmatch, names))}
    unnamed = len([key for key in names if not FIELD_NAME.fullmatch(key)])
    if unnamed:
        errors["non_field_errors"] = [f"{unnamed} name(s) sent are not fields of {where}."]
    return errors


class StepInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("step answers are not valid")
        self.errors = errors


class TextAnswer(forms.CharField):
    """A written answer, its line breaks kept as "\n" (spec.newlines)."""

    def to_python(self, value: Any) -> str:
        return newlines(super().to_python(value))


class TextListWidget(forms.Widget):
    """A few one-line inputs sharing one name; empty ones are ignored."""

    use_fieldset = True

    def __init__(self, max_items: int, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.max_items = max_items

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name) or []
        if isinstance(values, str):
            values = [values]
        return [v for v in values if isinstance(v, str) and v.strip()]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> str:
        """Three boxes (or one more than are filled), and the rest up to the limit behind "Add
        more": every box the help text promises is there, with or without JavaScript."""
        values = [v for v in (value or []) if v]
        shown = min(self.max_items, max(3, len(values) + 1))
        base_id = (attrs or {}).get("id", f"id_{name}")

        def items(numbers: range) -> str:
            return format_html_join(
                "",
                '<li><input type="text" id="{}" name="{}" value="{}" aria-label="{}"></li>',
                (
                    (
                        f"{base_id}_{i}" if i else base_id,
                        name,
                        values[i] if i < len(values) else "",
                        gettext("Item %(number)d") % {"number": i + 1},
                    )
                    for i in numbers
                ),
            )

        boxes = format_html('<ol class="text-list">{}</ol>', items(range(shown)))
        if shown == self.max_items:
            return boxes
        return format_html(
            '{}<details class="more-items"><summary>{}</summary>'
            '<ol class="text-list" start="{}">{}</ol></details>',
            boxes,
            gettext("Add more (up to %(count)d in all)") % {"count": self.max_items},
            shown + 1,
            items(range(shown, self.max_items)),
        )


class TextListField(forms.Field):
    widget = TextListWidget

    def __init__(self, *, min_items: int, max_items: int, max_length: int, **kwargs: Any) -> None:
        self.min_items, self.max_items, self.max_length = min_items, max_items, max_length
        kwargs.setdefault("widget", TextListWidget(max_items))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        items = [value] if isinstance(value, str) else list(value)
        return [item.strip() for item in items if isinstance(item, str) and item.strip()]

    def validate(self, value: list[str]) -> None:
        if self.required and len(value) < max(1, self.min_items):
            raise forms.ValidationError("Please write at least one.", code="required")
        if len(value) > self.max_items:
            raise forms.ValidationError(
                gettext("Up to %(count)d, please.") % {"count": self.max_items}, code="max_items"
            )
        # Which one to shorten, by the number of its box as the page shows them again (blank
        # boxes are not kept), and by how much.
        too_long = [
            forms.ValidationError(
                gettext("Item %(n)d has %(length)d characters; each one can be up to %(count)d.")
                % {"n": n, "length": len(item), "count": self.max_length},
                code="max_length",
            )
            for n, item in enumerate(value, start=1)
            if len(item) > self.max_length
        ]
        if too_long:
            raise forms.ValidationError(too_long)
        for item in value:
            ProhibitNullCharactersValidator()(item)


def field_label(spec: Field, *, kind: str, work_topic: bool) -> str:
    """The question as this intake's client sees it: a couple's own wording, or the general
    wording when work is not a topic."""
    if kind == "couple" and spec.couple_label:
        return tr(spec.couple_label)
    if not work_topic and spec.general_label:
        return tr(spec.general_label)
    return tr(spec.label)


class DistinctChoicesField(forms.MultipleChoiceField):
    """Each option once, in the order first given (an API may send one twice; a box is ticked
    or not)."""

    def clean(self, value: Any) -> list[str]:
        return list(dict.fromkeys(super().clean(value)))


def _django_field(spec: Field) -> forms.Field:
    common: dict[str, Any] = {"required": spec.required, "help_text": spec.help}
    if spec.kind == "bool":
        message = _("Please tick this box to continue.") if spec.required else ""
        return forms.BooleanField(error_messages={"required": message}, **common)
    if spec.kind == "text":
        widget = forms.TextInput if spec.max_length <= 100 else forms.Textarea(attrs={"rows": 4})
        return TextAnswer(
            max_length=spec.max_length,
            widget=widget,
            error_messages={"required": _("Please fill this in to continue.")},
            **common,
        )
    if spec.kind == "choice":
        return forms.ChoiceField(
            choices=[(c.code, c.label) for c in spec.choices],
            widget=forms.RadioSelect,
            error_messages={
                "invalid_choice": _("Choose one of the listed options."),
                "required": _("Please choose one to continue."),
            },
            **common,
        )
    if spec.kind == "multi":
        return DistinctChoicesField(
            choices=[(c.code, c.label) for c in spec.choices],
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                "invalid_choice": _("Choose from the listed options."),
                "invalid_list": _("Send a list of option codes."),
            },
            **common,
        )
    return TextListField(
        min_items=spec.min_items, max_items=spec.max_items, max_length=spec.max_length, **common
    )


class StepForm(forms.Form):
    """One intake step. `clean()` validates only; saving is the intake service's job."""

    step: Step

    def __init__(
        self,
        *args: Any,
        work_term: str = DEFAULT_WORK_TERM,
        work_topic: bool = True,
        not_recorded: Collection[str] = (),
        not_asked: Collection[str] = (),
        who_sees: str | None = None,
        kind: str = "individual",
        findings: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.kind = kind
        for spec in self.step.fields:
            if (
                spec.name in not_recorded  # not stored, so not asked (recording_preference)
                or spec.name in not_asked  # an earlier answer switched it off
                or not spec.applies(kind)
                or (spec.only_with_findings and not findings)
            ):
                del self.fields[spec.name]  # not asked of this intake
                continue
            field = self.fields[spec.name]
            field.label = field_label(spec, kind=kind, work_topic=work_topic)
            field.why = tr(spec.why)  # type: ignore[attr-defined]
            field.help_text = tr(spec.help)
            field.who_sees = spec.who_sees if who_sees is None else who_sees  # type: ignore[attr-defined]
            if spec.choices:
                field.choices = [  # type: ignore[attr-defined]
                    (
                        c.code,
                        choice_text(
                            c, term=work_term, work_topic=work_topic, couple=kind == "couple"
                        ),
                    )
                    for c in spec.choices
                ]

    def _alternative(self, spec: Field) -> bool:
        """A box that stands in for another answer ("not sure yet"): unticked, it says nothing."""
        return any(f.required_unless == spec.name for f in self.step.fields)

    def shown_fields(self) -> list[Field]:
        """The step's fields that this form asks, in order."""
        return [spec for spec in self.step.fields if spec.name in self.fields]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for spec in self.shown_fields():
            if spec.required_unless and not cleaned.get(spec.name) and spec.name not in self.errors:
                other = self.step.get_field(spec.required_unless)
                if not cleaned.get(other.name):
                    self.add_error(
                        spec.name,
                        gettext("Please write at least one, or tick “%(label)s”.")
                        % {"label": self.fields[other.name].label},
                    )
            if (  # a condition on this page's own answers (one on earlier pages: not_asked)
                spec.enabled_when is not None
                and self.step.name in condition_steps(spec.enabled_when)
                and cleaned.get(spec.name)
                and not spec.enabled_when(self.kind, {self.step.name: cleaned})
            ):
                self.add_error(
                    spec.name, gettext("This applies only to the topics you chose above.")
                )
            exclusive = spec.exclusive_codes
            chosen = cleaned.get(spec.name)
            if exclusive and isinstance(chosen, list) and len(chosen) > 1:
                lone = exclusive.intersection(chosen)
                if lone:
                    label = tr(next(c.label for c in spec.choices if c.code in lone))
                    self.add_error(
                        spec.name,
                        gettext("Choose “%(label)s” on its own, or the options that fit.")
                        % {"label": label},
                    )
        return cleaned

    def answers(self) -> dict[str, Any]:
        """The cleaned answers worth storing: blank ones are left out (recorded as skipped).
        A `kept_unless_sent` field that was sent blank is kept as "": sending it clears it,
        leaving it out keeps what was saved."""
        out: dict[str, Any] = {}
        for spec in self.shown_fields():
            value = self.cleaned_data.get(spec.name)
            if spec.kind == "bool":
                if value or not self._alternative(spec):
                    out[spec.name] = bool(value)
            elif value not in (None, "", []):
                out[spec.name] = value
            elif spec.kept_unless_sent and self.add_prefix(spec.name) in self.data:
                out[spec.name] = ""
        return out


@cache
def form_class(step_name: str) -> type[StepForm]:
    step = STEPS_BY_NAME[step_name]
    attrs: dict[str, Any] = {spec.name: _django_field(spec) for spec in step.fields}
    attrs["step"] = step
    return type(f"{step_name.title().replace('_', '')}Form", (StepForm,), attrs)


def answers_to_data(step: Step, answers: Mapping[str, Any], prefix: str | None) -> MultiValueDict:
    """Stored answers back into form data, so a saved step can be shown and re-validated."""
    data: dict[str, list[str]] = {}
    for spec in step.fields:
        key = f"{prefix}-{spec.name}" if prefix else spec.name
        value = answers.get(spec.name)
        if value is None or value is False:
            continue
        if value is True:
            data[key] = ["on"]
        elif isinstance(value, list):
            data[key] = [str(v) for v in value]
        else:
            data[key] = [str(value)]
    return MultiValueDict(data)


_JSON_TYPES = {"bool": bool, "text": str, "choice": str}


def validate_payload(
    step: Step,
    payload: Any,
    *,
    work_term: str = DEFAULT_WORK_TERM,
    work_topic: bool = True,
    not_recorded: Collection[str] = (),
    not_asked: Collection[str] = (),
    kind: str = "individual",
    findings: bool = False,
) -> dict[str, Any]:
    """Validate a JSON step body with the same form the wizard uses. Raises StepInvalid.

    Fields in `not_recorded` (the recording preference) are dropped unread, never stored. A
    field in `not_asked` (switched off by an earlier answer) sent with an answer is an error
    naming it; sent blank, it is let go."""
    if not isinstance(payload, dict):
        raise StepInvalid({"non_field_errors": ["Send a JSON object of field names and answers."]})
    payload = {k: v for k, v in payload.items() if k not in not_recorded}
    known = {spec.name: spec for spec in step.fields_for(kind)}
    errors = unknown_field_errors(
        [key for key in payload if key not in known],
        "This step has no field by this name.",
        "this step (see GET /api/v1/forms/)",
    )
    data: dict[str, list[str]] = {}
    for name, value in payload.items():
        spec = known.get(name)
        if spec is None or value is None:
            continue
        if name in not_asked:
            if value not in ("", [], False):
                errors[name] = [
                    "Not asked for these answers: an answer on an earlier step switches it off "
                    "(see its enabled_when in GET /api/v1/forms/)."
                ]
            continue
        if spec.kind in ("multi", "text_list"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[name] = ["Send a list of strings."]
            elif len(value) > LIST_HARD_CAP:
                errors[name] = [f"Send at most {spec.max_items} items."]
            elif spec.kind == "text_list" and any(len(v.strip()) > spec.max_length for v in value):
                # Each item too long named by where it was sent ("client_goals.1").
                for index, item in enumerate(value):
                    if len(item.strip()) > spec.max_length:
                        errors[f"{name}.{index}"] = [
                            f"Each one can be up to {spec.max_length} characters."
                        ]
            else:
                data[name] = value
        elif not isinstance(value, _JSON_TYPES[spec.kind]):
            expected = {"bool": "true or false", "text": "a string", "choice": "an option code"}
            errors[name] = [f"Send {expected[spec.kind]}."]
        elif spec.kind == "bool":
            if value:
                data[name] = ["on"]
        else:
            data[name] = [value]
    if errors:
        raise StepInvalid(errors)
    form = form_class(step.name)(
        MultiValueDict(data),
        work_term=work_term,
        work_topic=work_topic,
        not_recorded=not_recorded,
        not_asked=not_asked,
        kind=kind,
        findings=findings,
    )
    if not form.is_valid():
        raise StepInvalid({k: [str(m) for m in v] for k, v in form.errors.items()})
    return form.answers()
