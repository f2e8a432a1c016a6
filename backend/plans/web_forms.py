"""The plan editor in the browser, generated from plans/contract.py (as the API serializers are).

One form holds the whole page. Rows (goals, steps, referrals) are numbered freely, so "add another"
only has to copy an empty row; an empty new row is ignored; a row shown from the plan changes only
in the fields that were edited, and the editor sends `plan_update` only what changed.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core import signing
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .contract import (
    AGREEMENT_FIELDS,
    COUPLE_AGREEMENT,
    COUPLE_DECISIONS,
    GOAL_FIELDS,
    GOALS_MAX,
    PLAN_FIELDS,
    PROGRESS_LABELS,
    REFERRAL_FIELDS,
    REFERRALS_MAX,
    REVIEW_FIELDS,
    REVIEW_GOAL_FIELDS,
    STEP_FIELDS,
    STEPS_MAX,
    WEB_PLAN_FIELDS,
    PlanField,
    clean_choices,
    clean_text,
    plausible_date,
    text_errors,
)
from .models import StepOwner

BASE_SALT = "plans.editor.base"
ROWS_HARD_CAP = 200  # posted row numbers past this are not read at all


class ContractText(forms.CharField):
    """A contract text as a browser sends it back: a textarea's line breaks as "\r\n" (HTML's
    form encoding) and a one-line box's value without any. Cleaned by the contract's rule, and
    unchanged when its text is what the page showed, so that a save writes only what was edited
    (and the conflict page lists only that)."""

    def __init__(self, *, spec: PlanField, **kwargs: Any) -> None:
        self.spec = spec
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        return clean_text(super().to_python(value) or "")

    def clean(self, value: Any) -> str:
        text: str = super().clean(value)
        errors = text_errors(self.spec, text)
        if errors:
            raise forms.ValidationError(errors)
        return text

    def has_changed(self, initial: Any, data: Any) -> bool:
        shown = clean_text(str(initial or ""))
        if not self.spec.multiline:  # what a one-line box shows of a stored line break
            shown = shown.replace("\n", "")
        return shown != self.to_python(data)


class ContractDate(forms.DateField):
    """A date as the representation gives it (ISO text) and as the browser sends it back: the
    same day is no change (a saved review date counted as edited by every save, and was listed
    on the conflict page as the second editor's own change)."""

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            value = self.to_python(data)
            shown = self.to_python(initial)
        except forms.ValidationError:
            return True
        return value != shown


class ContractId(forms.UUIDField):
    """An id (a row's own, a referral's service) as the representation gives it: a string."""

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            value = self.to_python(data)
        except forms.ValidationError:
            return True
        return str(value or "") != str(initial or "")


def _form_field(spec: PlanField) -> forms.Field:
    attrs: dict[str, Any] = {}
    if spec.max_length:
        attrs["maxlength"] = spec.max_length
    if spec.language_check:
        attrs["data-language-check"] = ""
    if spec.counter:
        attrs["data-counter"] = ""
    common: dict[str, Any] = {"required": False, "label": spec.label, "help_text": spec.help}
    if spec.kind == "text":
        widget: forms.Widget = (
            forms.Textarea(attrs={"rows": 2, **attrs}) if spec.multiline else forms.TextInput(attrs)
        )
        return ContractText(
            spec=spec, max_length=spec.max_length, widget=widget, strip=False, **common
        )
    if spec.kind == "date":
        return ContractDate(
            # ISO whatever the page's language: a browser's date box reads no other form.
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            validators=[plausible_date],
            **common,
        )
    if spec.kind == "choice":
        if spec.radio:
            return forms.ChoiceField(choices=spec.choices, widget=forms.RadioSelect, **common)
        return forms.ChoiceField(choices=[("", gettext_lazy("Choose…")), *spec.choices], **common)
    if spec.kind == "choices":
        return forms.MultipleChoiceField(
            choices=spec.choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if spec.kind == "int":
        return forms.TypedChoiceField(
            choices=[(n, format_lazy("{}: {}", n, label)) for n, label in PROGRESS_LABELS.items()],
            coerce=int,
            empty_value=None,
            widget=forms.RadioSelect,
            **common,
        )
    return ContractId(widget=forms.HiddenInput, **common)


def _fields(specs: tuple[PlanField, ...]) -> dict[str, forms.Field]:
    return {s.name: _form_field(s) for s in specs}


class RowForm(forms.Form):
    """One goal, step, referral or rating. Required fields are required only in a row that is
    kept and not empty; an existing row may be emptied only by ticking "Remove"."""

    specs: tuple[PlanField, ...] = ()
    content_names: tuple[str, ...] = ()

    def __init__(self, *args: Any, existing: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.existing = existing
        if not existing and "remove" in self.fields:
            del self.fields["remove"]

    @property
    def removed(self) -> bool:
        return bool(self.existing and self.cleaned_data.get("remove"))

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(name) not in (None, "") for name in self.content_names)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for spec in self.specs:
            if spec.kind == "text" and isinstance(data.get(spec.name), str):
                data[spec.name] = clean_text(data[spec.name])
        if data.get("remove") or (not self.existing and self.is_blank()):
            return data
        for spec in self.specs:
            missing = spec.required and data.get(spec.name) in (None, "")
            if missing and spec.name != "id" and spec.name not in self.errors:
                new = not self.existing and spec.new_row_message
                self.add_error(spec.name, spec.new_row_message if new else spec.required_message)
        return data

    def values(self) -> dict[str, Any]:
        return {n: self.cleaned_data.get(n) for n in self.content_names}

    def changed_values(self) -> dict[str, Any]:
        return {n: self.cleaned_data.get(n) for n in self.content_names if n in self.changed_data}

    def has_changed(self) -> bool:
        """An edit of the row's content (its hidden id, sent back as text, is not one)."""
        return any(n in self.changed_data for n in self.content_names)


def _row_form(name: str, specs: tuple[PlanField, ...], remove_label: Any) -> type[RowForm]:
    attrs: dict[str, Any] = {
        **_fields(specs),
        "remove": forms.BooleanField(required=False, label=remove_label),
        "specs": specs,
        "content_names": tuple(s.name for s in specs if s.name != "id"),
    }
    return type(name, (RowForm,), attrs)


GoalForm = _row_form("GoalForm", GOAL_FIELDS, gettext_lazy("Remove this goal"))
StepForm = _row_form("StepForm", STEP_FIELDS, gettext_lazy("Remove"))
ReferralForm = _row_form("ReferralForm", REFERRAL_FIELDS, gettext_lazy("Remove"))


class _ReviewGoalBase(RowForm):
    def clean(self) -> dict[str, Any]:
        data = forms.Form.clean(self) or {}
        data["client_note"] = clean_text(data.get("client_note") or "")
        if data["client_note"] and data.get("progress") is None:
            self.add_error("progress", _("Choose the client's rating, from 0 to 4, for this note."))
        return data


_REVIEW_SPECS = tuple(s for s in REVIEW_GOAL_FIELDS if s.name != "goal")
ReviewGoalForm = type(
    "ReviewGoalForm",
    (_ReviewGoalBase,),
    {
        **_fields(_REVIEW_SPECS),
        "specs": _REVIEW_SPECS,
        "content_names": ("progress", "client_note"),
    },
)

_WEB_PLAN_SPECS = tuple(s for s in PLAN_FIELDS if s.name in WEB_PLAN_FIELDS)
PlanForm = type(
    "PlanForm",
    (forms.Form,),
    {
        **_fields(_WEB_PLAN_SPECS),
        "spec": staticmethod(lambda name: next(s for s in _WEB_PLAN_SPECS if s.name == name)),
    },
)
AgreementForm: type[forms.Form] = type("AgreementForm", (forms.Form,), _fields(AGREEMENT_FIELDS))
ReviewNoteForm = type("ReviewNoteForm", (forms.Form,), _fields(REVIEW_FIELDS))


def _indices(data: Any, pattern: str) -> list[int]:
    found = {int(m.group(1)) for key in data for m in [re.match(pattern, key)] if m}
    return sorted(n for n in found if n < ROWS_HARD_CAP)


def _initial(spec_names: tuple[str, ...], row: dict[str, Any]) -> dict[str, Any]:
    return {n: row.get(n) for n in ("id", *spec_names) if row.get(n) is not None}


@dataclass
class GoalRow:
    index: int
    form: RowForm
    steps: list[RowForm]
    next_step: int
    number: int = 0
    progress: list[dict[str, Any]] = field(default_factory=list)


def base_token(etag: str, rep: dict[str, Any]) -> str:
    """What the editor was opened on, signed: the diff base when someone else saves first."""
    return signing.dumps({"etag": etag, "rep": rep}, salt=BASE_SALT, compress=True)


def base_from_token(token: str) -> dict[str, Any] | None:
    try:
        value = signing.loads(token, salt=BASE_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, dict) else None


class PlanEditor:
    """Every form on the plan page, built from a plan representation (and posted data)."""

    def __init__(
        self,
        *,
        base: dict[str, Any],
        agencies: list[tuple[str, str]],
        data: Any = None,
    ) -> None:
        self.base, self.data, self.agencies = base, data, agencies
        self.non_field_errors: list[str] = []
        goals = base["goals"]
        by_id = {g["id"]: g for g in goals}
        self.goal_rows: list[GoalRow] = []
        indices = list(range(len(goals) + 1)) if data is None else _indices(data, r"^goal-(\d+)-")
        for i in indices:
            prefix = f"goal-{i}"
            if data is None:
                goal = goals[i] if i < len(goals) else None
            else:
                goal = by_id.get(str(data.get(f"{prefix}-id") or ""))
            initial = None
            if goal is not None:
                initial = {
                    **_initial(GoalForm.content_names, goal),
                    "_steps": [s["id"] for s in goal["steps"]],
                }
            form = GoalForm(data, prefix=prefix, existing=goal is not None, initial=initial)
            steps_by_id = {s["id"]: s for s in (goal or {}).get("steps", [])}
            if data is None:
                step_indices = list(range(len(steps_by_id) + 1))
            else:
                step_indices = _indices(data, rf"^{prefix}-step-(\d+)-")
            steps = []
            for j in step_indices:
                sprefix = f"{prefix}-step-{j}"
                if data is None:
                    listed = (goal or {}).get("steps", [])
                    step = listed[j] if j < len(listed) else None
                else:
                    step = steps_by_id.get(str(data.get(f"{sprefix}-id") or ""))
                steps.append(
                    StepForm(
                        data,
                        prefix=sprefix,
                        existing=step is not None,
                        initial=_initial(StepForm.content_names, step) if step else None,
                    )
                )
            self.goal_rows.append(
                GoalRow(
                    index=i,
                    form=form,
                    steps=steps,
                    next_step=(max(step_indices) + 1) if step_indices else 0,
                )
            )
        for n, row in enumerate(self.goal_rows, start=1):
            row.number = n
        self.next_goal = (max(indices) + 1) if indices else 0

        referrals = base["referrals"]
        referrals_by_id = {r["id"]: r for r in referrals}
        self.referral_forms: list[RowForm] = []
        if data is None:
            rindices = list(range(len(referrals) + 1))
        else:
            rindices = _indices(data, r"^referral-(\d+)-")
        for k in rindices:
            rprefix = f"referral-{k}"
            if data is None:
                referral = referrals[k] if k < len(referrals) else None
            else:
                referral = referrals_by_id.get(str(data.get(f"{rprefix}-id") or ""))
            rform = ReferralForm(
                data,
                prefix=rprefix,
                existing=referral is not None,
                initial=_initial(ReferralForm.content_names, referral) if referral else None,
            )
            rform.fields["agency"].widget = forms.Select(
                choices=[("", _("Choose a service")), *agencies]
            )
            rform.agency_name = referral["name"] if referral else ""  # type: ignore[attr-defined]
            self.referral_forms.append(rform)
        self.next_referral = (max(rindices) + 1) if rindices else 0

        self.plan_form = PlanForm(
            data, initial={n: base.get(n) for n in WEB_PLAN_FIELDS}, label_suffix=""
        )
        # Nothing preselected: a decision is recorded only when it is given in this save.
        self.agreement_form = AgreementForm(data, prefix="agreement", label_suffix="")
        self.review_forms = [
            (goal, ReviewGoalForm(data, prefix=f"review-{goal['id']}", existing=True))
            for goal in goals
        ]
        self.review_note = ReviewNoteForm(data, prefix="review", label_suffix="")
        self._goal_change_rows: list[GoalRow] = []
        self._referral_change_forms: list[RowForm] = []

    # -- empty rows for "add another" (copied in the browser, numbers filled in there) ------

    def goal_template(self) -> GoalRow:
        return GoalRow(
            index="__g__",  # type: ignore[arg-type]
            form=GoalForm(prefix="goal-__g__"),
            steps=[StepForm(prefix="goal-__g__-step-0")],
            next_step=1,
        )

    def step_template(self) -> RowForm:
        return StepForm(prefix="goal-__g__-step-__s__")

    def referral_template(self) -> RowForm:
        form = ReferralForm(prefix="referral-__r__")
        form.fields["agency"].widget = forms.Select(
            choices=[("", _("Choose a service")), *self.agencies]
        )
        return form

    # -- validation ---------------------------------------------------------------------------

    def forms(self) -> list[forms.Form]:
        out: list[forms.Form] = []
        for row in self.goal_rows:
            out += [row.form, *row.steps]
        out += [*self.referral_forms, self.plan_form, self.agreement_form]
        out += [f for _goal, f in self.review_forms] + [self.review_note]
        return out

    def is_valid(self) -> bool:
        valid = all([f.is_valid() for f in self.forms()])  # validate every form, not the first
        for row in self.goal_rows:
            steps_typed = any(not s.is_blank() for s in row.steps if not s.errors)
            if not row.form.existing and row.form.is_blank() and steps_typed:
                row.form.add_error("client_words", _("Write the goal for these steps."))
                valid = False
            kept_steps = [s for s in row.steps if not s.removed and not s.is_blank()]
            if len(kept_steps) > STEPS_MAX:
                row.form.add_error(
                    None, _("Up to %(max)s steps for a goal, please.") % {"max": STEPS_MAX}
                )
                valid = False
        kept = [r for r in self.goal_rows if not r.form.removed and not r.form.is_blank()]
        if len(kept) > GOALS_MAX:
            self.non_field_errors.append(_("Up to %(max)s goals, please.") % {"max": GOALS_MAX})
            valid = False
        kept_referrals = [f for f in self.referral_forms if not f.removed and not f.is_blank()]
        if len(kept_referrals) > REFERRALS_MAX:
            self.non_field_errors.append(
                _("Up to %(max)s referrals, please.") % {"max": REFERRALS_MAX}
            )
            valid = False
        agreement = getattr(self.agreement_form, "cleaned_data", {})
        if not agreement.get("client_decision") and any(
            (agreement.get(n) or "").strip()
            for n in AgreementForm.base_fields
            if n != "client_decision"
        ):
            self.agreement_form.add_error(
                "client_decision", _("Choose the client's decision to record it with these.")
            )
            valid = False
        return valid

    # -- what changed -------------------------------------------------------------------------

    def changes(self) -> dict[str, Any]:
        """Only what was edited, in plan_update's terms."""
        changes: dict[str, Any] = {}
        for name in self.plan_form.changed_data:
            value = self.plan_form.cleaned_data[name]
            if isinstance(value, list):  # the client's copy: codes in the contract's order
                value = clean_choices(self.plan_form.spec(name), value)
            changes[name] = clean_text(value) if isinstance(value, str) else value
        goals, goals_changed, posted = [], False, set()
        self._goal_change_rows = []
        for row in self.goal_rows:
            form = row.form
            if form.existing:
                posted.add(str(form.initial["id"]))
            if form.removed:
                goals_changed = True
                continue
            new_steps = [s for s in row.steps if not s.existing and not s.is_blank()]
            if not form.existing and form.is_blank():
                continue
            entry: dict[str, Any] = {}
            if form.existing:
                entry = {"id": form.initial["id"], **form.changed_values()}
            else:
                entry = form.values()
            steps_changed = bool(new_steps) or any(
                s.existing and (s.removed or s.has_changed()) for s in row.steps
            )
            if steps_changed or not form.existing:
                entry["steps"] = self._steps(row)
            goals_changed = goals_changed or len(entry) > 1 or not form.existing
            goals.append(entry)
            self._goal_change_rows.append(row)
        for goal in self.base["goals"]:  # a goal the page did not show is kept as it is
            if goal["id"] not in posted:
                goals.append({"id": goal["id"]})
        if goals_changed:
            changes["goals"] = goals
        referrals, referrals_changed, rposted = [], False, set()
        self._referral_change_forms = []
        for form in self.referral_forms:
            if form.existing:
                rposted.add(str(form.initial["id"]))
            if form.removed:
                referrals_changed = True
                continue
            if not form.existing and form.is_blank():
                continue
            entry = (
                {"id": form.initial["id"], **form.changed_values()}
                if form.existing
                else (form.values())
            )
            referrals_changed = referrals_changed or len(entry) > 1 or not form.existing
            referrals.append(entry)
            self._referral_change_forms.append(form)
        for referral in self.base["referrals"]:
            if referral["id"] not in rposted:
                referrals.append({"id": referral["id"]})
        if referrals_changed:
            changes["referrals"] = referrals
        agreement = self.agreement_form.cleaned_data
        if agreement.get("client_decision"):
            changes["agreement"] = {
                n: clean_text(agreement.get(n) or "") for n in AgreementForm.base_fields
            }
        return changes

    @staticmethod
    def _steps(row: GoalRow) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = []
        shown = set()
        for s in row.steps:
            if s.existing:
                shown.add(str(s.initial["id"]))
                if not s.removed:
                    steps.append({"id": s.initial["id"], **s.changed_values()})
            elif not s.is_blank():
                steps.append(s.values())
        if row.form.existing:
            base_steps = row.form.initial.get("_steps", [])
            steps += [{"id": sid} for sid in base_steps if sid not in shown]
        return steps

    def review(self) -> tuple[list[dict[str, Any]], str]:
        ratings = [
            {"goal": goal["id"], **f.cleaned_data}
            for goal, f in self.review_forms
            if f.cleaned_data.get("progress") is not None
        ]
        return ratings, clean_text(self.review_note.cleaned_data.get("note") or "")

    def speak_to_couple(self) -> None:
        """A couple decide and sign together, in the same fields: their labels and the
        decision's choices said to both ("We agree with this plan")."""
        fields = self.agreement_form.fields
        for name, (label, help_text) in COUPLE_AGREEMENT.items():
            fields[name].label = label
            fields[name].help_text = help_text
        decision = fields["client_decision"]
        decision.choices = [  # type: ignore[attr-defined]
            (code, COUPLE_DECISIONS.get(code, label))
            for code, label in decision.choices  # type: ignore[attr-defined]
        ]

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Errors from plan_update, put next to the fields they name."""
        for key, messages in errors.items():
            parts = key.split(".")
            target: forms.Form | None = None
            name: str | None = None
            if parts[0] == "goals" and len(parts) > 1 and parts[1].isdigit():
                index = int(parts[1])
                if index < len(self._goal_change_rows):
                    row = self._goal_change_rows[index]
                    target, name = row.form, None
            elif parts[0] == "referrals" and len(parts) > 2 and parts[1].isdigit():
                index = int(parts[1])
                if index < len(self._referral_change_forms):
                    target, name = self._referral_change_forms[index], parts[2]
                    if name not in target.fields:
                        name = None
            for message in messages:
                if target is not None:
                    target.add_error(name, message)
                else:
                    self.non_field_errors.append(message)

    def describe_changes(self, changes: dict[str, Any]) -> list[dict[str, str]]:
        """The edits of a save that was not made, in the page's labels, to re-apply."""
        who = dict(StepOwner.choices)
        out: list[dict[str, str]] = []
        for name in WEB_PLAN_FIELDS:
            if name in changes:
                out.append(
                    {
                        "label": str(self.plan_form.fields[name].label),
                        "value": (
                            ", ".join(changes[name])
                            if isinstance(changes[name], list)
                            else str(changes[name] or "")
                        ),
                    }
                )
        for row in self.goal_rows:
            form = row.form
            label = _("Goal %(n)s") % {"n": row.number} if form.existing else _("New goal")
            if form.removed:
                out.append({"label": label, "value": _("Remove this goal")})
                continue
            if not form.is_valid() or (not form.existing and form.is_blank()):
                continue
            edited = form.changed_values() if form.existing else form.values()
            for name, value in edited.items():
                if value not in (None, ""):
                    out.append(
                        {"label": f"{label}, {form.fields[name].label}", "value": str(value)}
                    )
            for m, step in enumerate(row.steps, start=1):
                if step.existing and step.removed:
                    out.append(
                        {
                            "label": _("%(goal)s, step %(n)s") % {"goal": label, "n": m},
                            "value": _("Remove"),
                        }
                    )
                elif (step.existing and step.has_changed()) or (
                    not step.existing and not step.is_blank()
                ):
                    data = step.cleaned_data
                    said = [str(who.get(data.get("who") or "", "")), data.get("frequency") or ""]
                    text = f"{data.get('description', '')} ({', '.join(x for x in said if x)})"
                    out.append(
                        {
                            "label": _("%(goal)s, step %(n)s") % {"goal": label, "n": m},
                            "value": text,
                        }
                    )
        names = dict(self.agencies)
        decisions = dict(ReferralForm.base_fields["client_decision"].choices)  # type: ignore[attr-defined]
        for n, form in enumerate(self.referral_forms, start=1):  # as the page numbers them
            label = _("Referral %(n)s") % {"n": n} if form.existing else _("New referral")
            name = getattr(form, "agency_name", "")
            if form.removed and form.existing:
                out.append({"label": label, "value": _("Remove: %(name)s") % {"name": name}})
                continue
            if not form.is_valid() or not form.has_changed() or form.removed:
                continue
            data = form.cleaned_data
            service = names.get(str(data.get("agency") or ""), name)
            said = [service, str(decisions.get(data.get("client_decision") or "", ""))]
            out.append(
                {
                    "label": label,
                    "value": " · ".join(x for x in [*said, data.get("note") or ""] if x),
                }
            )
        ratings, review_note = self.review()  # the review typed with them, not saved either
        numbers = {str(row.form.initial.get("id")): row.number for row in self.goal_rows}
        for rating in ratings:
            label = _("Goal %(n)s") % {"n": numbers.get(str(rating["goal"]), "")}
            out.append(
                {
                    "label": _("%(goal)s, the client's rating") % {"goal": label},
                    "value": f"{rating['progress']}: {PROGRESS_LABELS[rating['progress']]}",
                }
            )
            if rating.get("client_note"):
                out.append(
                    {
                        "label": _("%(goal)s, the client's note") % {"goal": label},
                        "value": rating["client_note"],
                    }
                )
        if review_note:
            out.append({"label": str(self.review_note.fields["note"].label), "value": review_note})
        if "agreement" in changes:  # every part typed, the decision by its label
            agreement = self.agreement_form
            for name, value in changes["agreement"].items():
                if value:
                    field = agreement.fields[name]
                    shown = dict(getattr(field, "choices", ())).get(value, value)
                    out.append({"label": str(field.label), "value": str(shown)})
        return out

    def error_summary(self) -> list[dict[str, str]]:
        """Every error on the page, each linking to its field, for the summary at the top."""
        out = [{"id": "", "label": "", "message": m} for m in self.non_field_errors]
        for form in self.forms():
            for name, messages in form.errors.items():
                if name == "__all__":
                    out += [{"id": "", "label": "", "message": str(m)} for m in messages]
                    continue
                bound = form[name]
                out += [
                    {"id": bound.auto_id or "", "label": str(bound.label), "message": str(m)}
                    for m in messages
                ]
        return out
