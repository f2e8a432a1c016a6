"""Forms for editing a plan in the browser; they produce the same changes dict as the API."""

from typing import Any

from django import forms

from referrals.models import ClientDecision as ReferralDecision

from .models import TEXT_MAX, ClientDecision, StepOwner

STEP_ROWS = 3


class GoalForm(forms.Form):
    id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    client_words = forms.CharField(
        max_length=500,
        label="The goal, in the client's words",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    clinical_restatement = forms.CharField(
        max_length=1000,
        required=False,
        label="Clinician's restatement (optional)",
        widget=forms.TextInput(attrs={"data-language-check": ""}),
    )
    target_date = forms.DateField(
        required=False,
        label="Aiming for (date, optional)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    remove = forms.BooleanField(required=False, label="Remove this goal")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(STEP_ROWS):
            self.fields[f"step{i}_description"] = forms.CharField(
                max_length=500,
                required=False,
                label=f"Step {i + 1}",
                widget=forms.TextInput(attrs={"data-language-check": ""}),
            )
            self.fields[f"step{i}_who"] = forms.ChoiceField(
                choices=StepOwner.choices, required=False, label=f"Who does step {i + 1}"
            )
            self.fields[f"step{i}_frequency"] = forms.CharField(
                max_length=100, required=False, label=f"How often (step {i + 1})"
            )

    @staticmethod
    def initial_for(goal: dict[str, Any]) -> dict[str, Any]:
        initial = {
            k: goal[k] for k in ("id", "client_words", "clinical_restatement", "target_date")
        }
        for i, step in enumerate(goal["steps"][:STEP_ROWS]):
            initial.update(
                {
                    f"step{i}_description": step["description"],
                    f"step{i}_who": step["who"],
                    f"step{i}_frequency": step["frequency"],
                }
            )
        return initial

    def as_change(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data or data.get("remove") or not data.get("client_words", "").strip():
            return None
        steps = [
            {
                "description": data[f"step{i}_description"],
                "who": data[f"step{i}_who"] or "client",
                "frequency": data[f"step{i}_frequency"],
            }
            for i in range(STEP_ROWS)
            if data.get(f"step{i}_description")
        ]
        change = {
            "client_words": data["client_words"].strip(),
            "clinical_restatement": data["clinical_restatement"],
            "target_date": data["target_date"],
            "steps": steps,
        }
        if data.get("id"):
            change["id"] = data["id"]
        return change


GoalFormSet = forms.formset_factory(GoalForm, extra=1, max_num=10, absolute_max=10)


class PlanForm(forms.Form):
    safety_plan = forms.CharField(
        max_length=TEXT_MAX,
        required=False,
        strip=False,
        label="If things get hard (the client's own back-up plan)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    review_date = forms.DateField(
        required=False, label="Review date", widget=forms.DateInput(attrs={"type": "date"})
    )


class AgreementForm(forms.Form):
    client_decision = forms.ChoiceField(
        choices=ClientDecision.choices, widget=forms.RadioSelect, label="The client's decision"
    )
    client_comment = forms.CharField(
        max_length=TEXT_MAX,
        required=False,
        strip=False,
        label="The client's comment (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    client_signed_name = forms.CharField(
        max_length=100, required=False, label="Client's name as they want it on the plan"
    )
    clinician_signed_name = forms.CharField(
        max_length=100, required=False, label="Clinician's name"
    )


class ReferralForm(forms.Form):
    agency = forms.UUIDField(widget=forms.Select, label="Service")
    client_decision = forms.ChoiceField(
        label="The client's decision", choices=ReferralDecision.choices
    )
    note = forms.CharField(max_length=1000, required=False, label="Note (optional)")
    remove = forms.BooleanField(required=False, label="Remove")

    def __init__(
        self, *args: Any, agencies: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].widget.choices = [("", "Choose a service"), *(agencies or [])]


ReferralFormSet = forms.formset_factory(ReferralForm, extra=1, max_num=30, absolute_max=30)
