"""Web pages around the wizard: the clinician's home, starting an intake, the clinician-only
pages (reflection, couple private checks), the page after "save and finish later", quick exit."""

import contextlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.models import Membership
from accounts.permissions import membership_or_404, quick_save_caller
from accounts.permissions import quick_save_token as signed_token
from audit.services import audit_listed
from clients.models import DISPLAY_NAME_MAX, PRONOUNS_MAX
from clients.selectors import (
    care_team_clients,
    client_for_care,
    client_for_change,
    client_list,
)
from clients.services import client_create, client_erase
from common.crypto import encrypted_fields
from forms import KINDS, STEPS_BY_NAME, Step, work_is_a_topic, work_term
from forms.django_forms import answers_to_data, form_class
from forms.localize import localize_step
from forms.who_sees import who_sees
from language.services import consultation_prompts
from plans.models import TreatmentPlan
from plans.selectors import plans_for

from .models import Intake, Reflection, Status
from .selectors import (
    intake_get,
    intake_in_progress,
    intake_sharing,
    safety_prompts,
    step_answers,
)
from .services import (
    IntakeError,
    intake_answers_lost_by,
    intake_start,
    intake_submit_step,
    private_checks_untaken,
)

QUICK_SAVE_SALT = "intake.quick-save"


def neutral_exit() -> HttpResponse:
    """Where a signed-out visitor to an intake page goes: the quick-exit page, never the
    sign-in page with the intake step in its address (Back after a quick exit lands here)."""
    return HttpResponseRedirect(reverse("away"))


def intake_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """login_required for pages about one intake, leaving to the neutral page when signed out."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return neutral_exit()
        return view(request, *args, **kwargs)

    return wrapper


def quick_save_token(*, intake: Intake, request: Any, step: str) -> str:
    """Names the intake and the step on screen: it can save that one step of that one intake,
    nothing else, under the same access rules, from this browser's session only."""
    return signed_token(salt=QUICK_SAVE_SALT, request=request, i=str(intake.pk), s=step)


class StartIntakeForm(forms.Form):
    client = forms.UUIDField(required=False, widget=forms.HiddenInput)
    display_name = forms.CharField(
        max_length=DISPLAY_NAME_MAX,
        required=False,
        label="Name the client would like to use",
        help_text="Any name they choose. No legal name is needed.",
    )
    pronouns = forms.CharField(max_length=PRONOUNS_MAX, required=False, label="Pronouns")
    kind = forms.ChoiceField(
        choices=[(k, k.title()) for k in KINDS],
        initial="individual",
        widget=forms.RadioSelect,
        label="Intake for",
    )
    # The wizard and the client's plan follow it (DESIGN "Languages").
    language = forms.ChoiceField(
        choices=settings.LANGUAGES, initial="en", required=False, label="The client's language"
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("client") and not cleaned.get("display_name"):
            self.add_error("display_name", "Please give a name to use, or pick an existing client.")
        return cleaned


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = membership_or_404(request)
    clients = list(client_list(membership=membership).order_by("-created_at")[:100])
    in_progress = list(
        intake_in_progress(membership=membership)
        .select_related("client")
        .order_by("-updated_at")[:50]
    )
    plans = list(
        plans_for(membership=membership)
        .select_related("client", "intake")
        .defer(*encrypted_fields(Intake, "intake__"))  # its kind only, for the private links
        .order_by("-updated_at")[:50]
    )
    # Guideline 10: the clinician's own prompts, shown to them alone.
    consultation = list(
        Reflection.objects.filter(author=membership.user, consultation_wanted=True).select_related(
            "intake__client"
        )
    )
    audit_listed(
        membership=membership,
        rows=[*clients, *in_progress, *plans, *(r.intake for r in consultation)],
    )
    context = {
        "clients": clients,
        # Intakes are started, and clinical links shown, only for the caller's care-team clients.
        "my_clients": set(care_team_clients(membership=membership).values_list("pk", flat=True)),
        "is_admin": membership.is_admin,
        "in_progress": in_progress,
        "plans": plans,
        "start_form": StartIntakeForm(),
        "consultation": consultation,
        "wording_prompts": consultation_prompts(user=membership.user),
        # Couple private checks that asked for a safety follow-up, for this clinician's clients.
        # Each named by the partner whose check it is: the follow-up is with them alone.
        "safety_prompts": [
            {"check": check, "person": private_person(check.step, check.intake.answers)}
            for check in safety_prompts(membership=membership)[:50]
        ],
    }
    return render(request, "intake/home.html", context)


@login_required
@require_http_methods(["POST"])
def start_intake(request: HttpRequest) -> HttpResponse:
    membership = membership_or_404(request)
    actor = membership.user
    form = StartIntakeForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "intake/home.html",
            {
                "clients": client_list(membership=membership).order_by("-created_at")[:100],
                "start_form": form,
                "in_progress": [],
                "plans": [],
            },
            status=400,
        )
    data = form.cleaned_data
    if data.get("client"):
        client = client_for_care(membership=membership, client_id=data["client"])
    else:
        client = client_create(
            membership=membership,
            actor=actor,
            display_name=data["display_name"],
            pronouns=data["pronouns"],
            language=data.get("language") or "en",
        )
    intake = intake_start(membership=membership, actor=actor, client=client, kind=data["kind"])
    return redirect("intake-step", intake_id=intake.pk, step="consent")


@intake_page
def intake_resume(request: HttpRequest, intake_id: str) -> HttpResponse:
    intake = intake_get(membership=membership_or_404(request), intake_id=intake_id)
    return redirect("intake-step", intake_id=intake.pk, step=intake.current_step or "consent")


@intake_page
def intake_summary(request: HttpRequest, intake_id: str) -> HttpResponse:
    intake: Intake = intake_get(membership=membership_or_404(request), intake_id=intake_id)
    plan = TreatmentPlan.objects.filter(intake=intake).first()
    if plan is not None:
        return redirect("plan-detail", plan_id=plan.pk)
    return redirect("intake-resume", intake_id=intake.pk)


def away(request: HttpRequest) -> HttpResponse:
    """Quick exit: end the session and leave for the configured neutral address (by default
    a page with nothing on it about care or the client)."""
    logout(request)
    if settings.QUICK_EXIT_URL not in ("", reverse("away")):
        return HttpResponseRedirect(settings.QUICK_EXIT_URL)
    return render(request, "away.html")


@csrf_exempt  # authenticated by the signed token in the body, not by the session cookie
@require_http_methods(["POST"])
def quick_save(request: HttpRequest) -> HttpResponse:
    """Quick exit saves what was typed on the current wizard page (sent with sendBeacon).

    Valid fields are saved; a field that does not validate keeps its stored answer."""
    caller = quick_save_caller(request, salt=QUICK_SAVE_SALT)
    if caller is None:
        return HttpResponse(status=403)
    claim, membership = caller
    intake = intake_get(membership=membership, intake_id=claim["i"])
    step = STEPS_BY_NAME.get(claim["s"])
    if step is None or step.clinician_only or intake.status != Status.IN_PROGRESS:
        return HttpResponse(status=204)
    if not step.enabled(intake.kind, intake.answers):
        return HttpResponse(status=204)
    form = form_class(step.name)(
        request.POST,
        prefix=step.name,
        work_term=work_term(intake.answers),
        work_topic=work_is_a_topic(intake.answers),
        not_recorded=step.not_recorded(intake.kind, intake.answers),
    )
    form.is_valid()
    stored = intake.answers.get(step.name, {})
    answers = {
        **{k: v for k, v in form.answers().items() if k not in form.errors},
        **{k: stored[k] for k in form.errors if k in stored},
        **_list_items_that_fit(step, form, stored),
    }
    answers, asks_first = _nothing_lost(intake, step, answers, stored)
    # What was sent and not saved, for the page to say when it is next shown (never silently).
    held_back = {
        **{name: _not_valid(step, form, name) for name in form.errors if _sent(form, name)},
        **{name: {"why": "removes_answers"} for name in asks_first},
    }
    with contextlib.suppress(IntakeError):  # completed meanwhile: nothing left to save
        intake_submit_step(
            intake=intake,
            step=step,
            answers=answers,
            actor=membership.user,
            held_back=held_back,
        )
    return HttpResponse(status=204)


def _sent(form: Any, name: str) -> list[str]:
    """What the page sent for a field, blank boxes left out."""
    if name not in form.fields:
        return []
    return [v for v in form.data.getlist(form.add_prefix(name)) if v.strip()]


# Words that did not fit a box are kept for the page to show back up to this many times the
# box's size; beyond it (no one types that much) only the note.
HELD_WORDS_FACTOR = 10


def _not_valid(step: Step, form: Any, name: str) -> dict[str, Any]:
    """A field a quick exit could not save as sent: noted, with the words typed in it (a text
    box too long, say), so that the page can show them back to copy from. Choices are not
    kept: the page offers them again."""
    spec = step.get_field(name)
    words = _sent(form, name)
    if spec.kind not in ("text", "text_list") or any(
        len(w) > spec.max_length * HELD_WORDS_FACTOR for w in words
    ):
        return {"why": "not_valid"}
    if spec.kind == "text_list":  # the boxes that fit were saved
        words = [w for w in words if len(w.strip()) > spec.max_length or "\x00" in w]
    return {"why": "not_valid", "words": words}


def _list_items_that_fit(step: Step, form: Any, stored: dict[str, Any]) -> dict[str, list[str]]:
    """A list answer refused whole for one item that is too long still has items that fit: a
    client leaving in a hurry keeps those, and, for a box whose new words do not fit, the words
    saved in it before (the wizard would have said which one to shorten; there was no time)."""
    out = {}
    for name in form.errors:
        if name not in form.fields or step.get_field(name).kind != "text_list":
            continue
        field, before = form.fields[name], stored.get(name, [])
        kept = []
        for box, typed in enumerate(form.data.getlist(form.add_prefix(name))):
            words = typed.strip()
            if words and len(words) <= field.max_length and "\x00" not in words:
                kept.append(words)
            elif words and box < len(before):
                kept.append(before[box])
        if kept:
            out[name] = kept[: field.max_items]
    return out


def _nothing_lost(
    intake: Intake, step: Step, answers: dict[str, Any], stored: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """A quick exit saves what was typed, but never a change that would delete answers on other
    pages: the wizard asks before such a save, and a client leaving in a hurry was not asked.
    Each change is taken in turn and kept only when it deletes nothing; the others keep what
    was saved. Returns the answers to save and the fields whose change was not kept."""
    out = dict(stored)
    changes: list[tuple[str, Any]] = [(k, v) for k, v in answers.items() if stored.get(k) != v]
    changes += [(k, None) for k in stored if k not in answers]  # cleared
    not_kept = []
    for name, value in changes:
        trial = {k: v for k, v in out.items() if k != name}
        if value is not None:
            trial[name] = value
        if intake_answers_lost_by(intake=intake, step=step, answers=trial):
            not_kept.append(name)
        else:
            out = trial
    return out, not_kept


@intake_page
def intake_paused(request: HttpRequest, intake_id: str) -> HttpResponse:
    """After "save and finish later": about this intake only (no other clients, no prompts)."""
    intake = intake_get(membership=membership_or_404(request), intake_id=intake_id)
    with translation.override(intake.client.language):  # a page of the client's intake
        return render(request, "intake/paused.html", {"intake": intake})


# Which person of a couple each private check is with, by the name they gave on the first page.
PRIVATE_CHECK_PERSON = {
    "private_check_a": ("partner_a_name", gettext_lazy("the first person")),
    "private_check_b": ("partner_b_name", gettext_lazy("the second person")),
}


def private_person(step_name: str, answers: dict[str, Any]) -> str:
    """The person a private check is taken with, by the name they gave on the first page:
    "Ash (the first person)", or "the first person" before any name is given."""
    field, person = PRIVATE_CHECK_PERSON[step_name]
    name = answers.get("about", {}).get(field, "")
    return f"{name} ({person})" if name else str(person)


def private_title(step: Step, answers: dict[str, Any]) -> str:
    """A private check named for the person it is taken with ("Private check with Ash (the
    first person)"), as the couple asked to be called; the step's own title otherwise."""
    if step.name not in PRIVATE_CHECK_PERSON:
        return str(step.title)
    return gettext("Private check with %(person)s") % {"person": private_person(step.name, answers)}


@intake_page
def private_step(request: HttpRequest, intake_id: str, step: str) -> HttpResponse:
    """A clinician-only step (reflection, couple private checks) on a page of its own.

    A couple's private check is taken with that partner alone, who reads the page: it is in
    the client's language, shows nothing of the other partner or the clinician's own pages,
    and once saved gives way to a page to hand the screen back on, with the answers off it."""
    membership = membership_or_404(request)
    intake = intake_get(membership=membership, intake_id=intake_id)
    spec = STEPS_BY_NAME.get(step)
    if spec is None or not spec.clinician_only or not spec.enabled(intake.kind, intake.answers):
        raise Http404
    if spec.audience != "care_team":  # the reflection: the clinician's alone
        return _private_page(request, membership, intake, spec)
    with translation.override(intake.client.language):
        if request.method == "GET" and "saved" in request.GET:
            untaken = private_checks_untaken(intake)
            if spec.name not in untaken:  # says "saved" only of a check that is
                return _hand_back(request, intake, spec, untaken)
        return _private_page(request, membership, intake, spec)


def _private_page(
    request: HttpRequest, membership: Membership, intake: Intake, spec: Step
) -> HttpResponse:
    form_cls = form_class(spec.name)
    kwargs = {"who_sees": who_sees(spec, intake_sharing(intake=intake))}
    partner = spec.audience == "care_team"
    status = 200
    if request.method == "POST":
        form = form_cls(request.POST, **kwargs)
        if form.is_valid():
            try:
                intake_submit_step(
                    intake=intake, step=spec, answers=form.answers(), actor=membership.user
                )
            except IntakeError as exc:
                messages.warning(request, str(exc))
            else:
                if partner:  # the handover page says so, with the answers off the screen
                    url = reverse("intake-private", args=[intake.pk, spec.name])
                    return HttpResponseRedirect(f"{url}?saved=1")
                messages.success(request, "Saved.")
            return redirect("intake-private", intake_id=intake.pk, step=spec.name)
        status = 400
    else:
        saved = step_answers(intake=intake, step=spec, viewer=membership.user)
        form = form_cls(answers_to_data(spec, saved, prefix=None) if saved else None, **kwargs)
    # The clinician's own pages, listed on the reflection only: a private check's page is read
    # by one partner, and never leads to the other's answers.
    others = (
        []
        if partner
        else [
            {"name": s.name, "title": private_title(s, intake.answers)}
            for s in STEPS_BY_NAME.values()
            if s.clinician_only and s.enabled(intake.kind, intake.answers)
        ]
    )
    return render(
        request,
        "intake/private.html",
        {
            "intake": intake,
            "step_spec": localize_step(spec),
            "partner": partner,
            "title": private_title(spec, intake.answers),
            "form": form,
            "private_steps": others,
        },
        status=status,
    )


def _hand_back(
    request: HttpRequest, intake: Intake, spec: Step, untaken: list[str]
) -> HttpResponse:
    """After a partner's private check is saved: thanks, and the screen back to the clinician,
    with none of the answers on it; for the clinician, the other partner's check if it is
    still to take (`untaken`), and the way back to the intake."""
    following = (
        {"name": untaken[0], "title": private_title(STEPS_BY_NAME[untaken[0]], intake.answers)}
        if untaken
        else None
    )
    return render(
        request,
        "intake/private_saved.html",
        {"intake": intake, "step_spec": spec, "following": following},
    )


@login_required
def client_erase_view(request: HttpRequest, client_id: str) -> HttpResponse:
    """Erasure from the web, behind an explicit confirmation."""
    membership = membership_or_404(request)
    try:
        client = client_for_change(membership=membership, client_id=client_id)
    except PermissionDenied as refused:
        messages.error(request, str(refused))
        return redirect("home")
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm", "").strip() == "ERASE":
            client_erase(client=client, actor=membership.user)
            messages.success(request, "The client's records were erased.")
            return redirect("home")
        error = "Type ERASE to confirm, or go back to keep the records."
    return render(
        request,
        "intake/erase_confirm.html",
        {"client": client, "error": error},
        status=400 if error else 200,
    )
