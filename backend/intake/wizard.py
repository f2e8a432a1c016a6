"""The intake wizard: django-formtools with named-URL steps and storage in the Intake row.

Storage lives in the database (encrypted with the answers), not in the session or a cookie, so
an intake resumes from any browser, and two intakes open in two tabs can never mix: the storage
is the intake named in the URL.
"""

import hashlib
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.datastructures import MultiValueDict
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.views.generic import TemplateView
from formtools.wizard.storage.base import BaseStorage
from formtools.wizard.views import NamedUrlWizardView, StepsHelper

from accounts.permissions import membership_of
from forms import (
    STEPS,
    STEPS_BY_NAME,
    Step,
    asks_couple_about_work,
    form_kwargs,
    work_is_a_topic,
    work_term,
)
from forms.django_forms import StepForm, answers_to_data, field_label, form_class
from forms.localize import localize_step, tr
from forms.who_sees import Sharing, who_sees

from .models import Intake, Status
from .selectors import intake_get, intake_sharing, step_answers
from .services import (
    ConsentFirst,
    IntakeClosed,
    PrivateChecksFirst,
    StepNotEnabled,
    intake_answers_lost_by,
    intake_complete,
    intake_submit_step,
    private_checks_untaken,
)
from .views import neutral_exit, quick_save_token

# The wizard the client sees: the clinician-only steps (reflection, couple private checks) are
# written on the clinician's own pages (views.private_step), never here.
CLIENT_STEPS = [step for step in STEPS if not step.clinician_only]


def _answered(answers: dict[str, Any] | None) -> bool:
    return any(value not in (None, "", [], False) for value in (answers or {}).values())


class IntakeStorage(BaseStorage):
    """Reads saved answers back as form data; writes happen in the intake service."""

    def __init__(self, prefix: str, request: HttpRequest, intake: Intake) -> None:
        super().__init__(prefix, request)
        self.intake = intake
        self.init_data()

    def reset(self) -> None:
        """Nothing to reset: what is saved stays saved until the intake says otherwise."""

    def _get_current_step(self) -> str | None:
        return self.intake.current_step or None

    def _set_current_step(self, step: str) -> None:
        if step and step != self.intake.current_step:
            self.intake.current_step = step
            Intake.objects.filter(pk=self.intake.pk).update(current_step=step)

    def get_step_data(self, step: str) -> MultiValueDict | None:
        spec = next((s for s in STEPS if s.name == step), None)
        if spec is None:
            return None
        answers = step_answers(intake=self.intake, step=spec, viewer=self.request.user)
        return None if answers is None else answers_to_data(spec, answers, prefix=step)

    def set_step_data(self, step: str, cleaned_data: Any) -> None:
        """Already saved by process_step through the intake service."""

    def get_step_files(self, step: str) -> None:
        return None

    def set_step_files(self, step: str, files: Any) -> None:
        """The intake has no file uploads."""

    def update_response(self, response: HttpResponse) -> None:
        """No cookies: storage is server-side."""


def _fingerprint(value: Any) -> str:
    """A short digest a page carries and sends back: what it was shown (its saved answers, or
    the loss it asked about), to tell whether that still holds when the page is posted."""
    raw = json.dumps(value, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def _condition(step: Step) -> Any:
    return lambda wizard: step.enabled(wizard.intake.kind, wizard.intake.answers)


class IntakeWizard(LoginRequiredMixin, NamedUrlWizardView):
    form_list = [(step.name, form_class(step.name)) for step in CLIENT_STEPS]
    condition_dict = {step.name: _condition(step) for step in CLIENT_STEPS if step.enabled_when}
    template_name = "intake/step.html"
    url_name = "intake-step"
    done_step_name = "finish"
    intake: Intake
    actor: User

    @classmethod
    def as_wizard(cls) -> Any:
        return cls.as_view(url_name=cls.url_name, done_step_name=cls.done_step_name)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        membership = membership_of(request.user)
        if membership is None:
            # Signed out (after a quick exit, say): a neutral page, never the sign-in page
            # with the intake step in its address.
            return neutral_exit()
        self.actor = membership.user
        self.intake = intake_get(membership=membership, intake_id=kwargs["intake_id"])
        if self.intake.status != Status.IN_PROGRESS:
            return redirect("intake-summary", intake_id=self.intake.pk)
        self.prefix = f"intake_{self.intake.pk}"
        self.storage = IntakeStorage(self.prefix, request, self.intake)
        self.steps = StepsHelper(self)
        # The client's language for every page of their intake (DESIGN "Languages").
        with translation.override(self.intake.client.language):
            response = TemplateView.dispatch(self, request, *args, **kwargs)
            if isinstance(response, TemplateResponse) and not response.is_rendered:
                response.render()  # in the client's language, not after the override ends
            return response

    def get(self, *args: Any, **kwargs: Any) -> HttpResponse:
        name = kwargs.get("step", "")
        spec = STEPS_BY_NAME.get(name)
        if (spec is None and name != self.done_step_name) or (spec and spec.clinician_only):
            # Not a page of the client's wizard (a clinician's page, a mistyped address): back
            # to where the wizard is, not to its first page as if it had started again.
            current = STEPS_BY_NAME.get(self.intake.current_step)
            name = current.name if current and not current.clinician_only else "consent"
            return redirect(self.get_step_url(name))
        if spec is not None and spec.name not in self.get_form_list():
            # A page switched off since it was last open (an answer changed in another tab or
            # over the API): on to the next page that is on, not back to the first page
            # (formtools' answer), which would look as if the intake had started again.
            return redirect(self.get_step_url(self._on_from(spec)))
        if spec is not None and spec.name != "consent" and not self._consented():
            # Nothing is written down before confidentiality is explained and confirmed (the
            # service refuses it): no page to type into before then either.
            return self._consent_first()
        if spec is not None and asks_couple_about_work(self.intake.kind, spec):
            untaken = private_checks_untaken(self.intake)
            if untaken:
                return self._private_checks_first(spec, untaken)
        return super().get(*args, **kwargs)

    def _on_from(self, spec: Step) -> str:
        """The first page that is on at or after this one (the review always is)."""
        enabled = list(self.get_form_list())
        later = [step.name for step in CLIENT_STEPS[CLIENT_STEPS.index(spec) :]]
        return next((name for name in later if name in enabled), enabled[-1])

    def _private_checks_first(self, spec: Step, untaken: list[str]) -> HttpResponse:
        """A couple's questions about work wait until the clinician has taken each partner's
        private check with them alone (the service refuses their answers until then): a page
        that says so, with the way back, the way on once the checks are taken (and a word when
        they are not yet), the way past these questions for now, and the clinician's way to
        the checks."""
        enabled = list(self.get_form_list())
        index = enabled.index(spec.name) if spec.name in enabled else 0
        later = [
            name
            for name in enabled[index + 1 :]
            if not asks_couple_about_work(self.intake.kind, STEPS_BY_NAME[name])
        ]
        return render(
            self.request,
            "intake/checks_first.html",
            {
                "intake": self.intake,
                "back": self.get_step_url(enabled[index - 1]) if index else None,
                "here": self.get_step_url(spec.name),
                "tried": self.request.GET.get("again") == "1",
                "skip": self.get_step_url(later[0]) if later else None,
                "check": untaken[0],
            },
        )

    def _consented(self) -> bool:
        return bool(self.intake.answers.get("consent", {}).get("confidentiality_explained"))

    def _consent_first(self) -> HttpResponse:
        messages.warning(
            self.request,
            gettext(
                "Confidentiality comes first: on this page your clinician explains it and "
                "you confirm it. Nothing else is written down until then."
            ),
        )
        return redirect(self.get_step_url("consent"))

    def get_step_url(self, step: str) -> str:
        return reverse(self.url_name, kwargs={"intake_id": self.intake.pk, "step": step})

    @property
    def sharing(self) -> Sharing:
        if not hasattr(self, "_sharing"):
            self._sharing = intake_sharing(intake=self.intake)
        return self._sharing

    def get_form_kwargs(self, step: str | None = None) -> dict[str, Any]:
        spec = STEPS_BY_NAME[step or self.steps.current]
        return {
            **form_kwargs(self.intake.kind, self.intake.answers, step=spec),
            "not_recorded": spec.not_recorded(self.intake.kind, self.intake.answers),
            # Lazy: worked out only when a page shows it, not on every validated post.
            "who_sees": lazy(lambda: who_sees(spec, self.sharing), str)(),
        }

    def get_form_initial(self, step: str) -> dict[str, Any]:
        """The pronouns typed when the intake was started, offered where "About you" asks them
        (until that page is saved): the client sees what the plan would print, and can change
        or clear it; the plan then prints their answer."""
        pronouns = self.intake.client.pronouns
        unsaved = step == "about" and "about" not in self.intake.answers
        if unsaved and pronouns and self.intake.kind == "individual":
            return {"pronouns": pronouns}
        return {}

    def _submit(self, form: StepForm) -> None:
        """Save the page's answers, and say so when the change let earlier answers go. Said
        without naming them: the screen may be shared, and a title can name the work a
        client has just taken off the table."""
        removed = intake_submit_step(
            intake=self.intake,
            step=form.step,
            answers=form.answers(),
            actor=self.actor,
            sent=[spec.name for spec in form.shown_fields()],  # a shown field is always sent
        )
        if removed:
            messages.info(
                self.request,
                gettext(
                    "Because of the answer you changed, some answers you gave on other pages "
                    "no longer apply, so they were removed."
                ),
            )

    def process_step(self, form: StepForm) -> Any:
        self._submit(form)
        return form.data

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        posted_step = self.request.POST.get(f"{self.prefix}-current_step")
        if posted_step is not None and posted_step not in self.get_form_list():
            # Not a step of this wizard (a clinician-only step, or one switched off).
            if posted_step in {step.name for step in CLIENT_STEPS}:  # switched off meanwhile
                messages.warning(
                    self.request,
                    gettext(
                        "An answer on another page was changed while this page was open (in "
                        "another tab or window, perhaps), so the page you were on no longer "
                        "applies. Nothing on it was saved."
                    ),
                )
                if "save_and_leave" in self.request.POST:  # leaving: the neutral page, as asked
                    return redirect("intake-paused", intake_id=self.intake.pk)
            return redirect(self.get_step_url(self.steps.current))
        unasked = self._unasked(STEPS_BY_NAME[posted_step]) if posted_step else []
        if unasked:  # nothing saved, nothing dropped unseen: the page again, without them
            form = self._posted_form()
            form.is_valid()  # so the page shows what else needs a look, as any post would
            return self.render(form, unasked=unasked)
        seen = self.request.POST.get("seen")
        if posted_step and seen is not None and seen != self._seen(posted_step):
            # Saved elsewhere since this page was shown: never overwrite that unseen. The page
            # again, as it is saved now, saying so; nothing from this page is saved.
            self.storage.current_step = posted_step
            step = STEPS_BY_NAME[posted_step]
            typed = self._posted_words(step, [f.name for f in step.fields])
            form = self.get_form(step=posted_step, data=self.storage.get_step_data(posted_step))
            return self.render(form, changed_elsewhere=True, typed=typed)
        confirmed = self.request.POST.get("confirm_removal", "")
        action, _, agreed = confirmed.partition("|")
        if posted_step:
            # Asked unless this very loss was confirmed: a page changed again before the button
            # was pressed (another choice, taking more) is asked about afresh.
            asked = self._ask_before_removing(agreed=agreed)
            if asked is not None:
                return asked
        if confirmed:  # the save asked about, with the button first pressed
            self.request.POST = post = self.request.POST.copy()
            if action == "leave":
                post["save_and_leave"] = "1"
            elif action.startswith("goto:"):
                post["wizard_goto_step"] = action.removeprefix("goto:")
        try:
            if "save_and_leave" in self.request.POST:
                return self._save_and_leave()
            return super().post(*args, **kwargs)
        except ConsentFirst:
            return self._consent_first()
        except PrivateChecksFirst:  # the worker's own account, typed before the checks
            form = self._posted_form()
            form.is_valid()
            form.add_error(
                "worker_description",
                gettext(
                    "This is asked once your clinician has talked with each of you on your "
                    "own. Your words are still here; nothing on this page was saved yet."
                ),
            )
            return self.render(form)
        except (StepNotEnabled, IntakeClosed) as exc:
            messages.warning(self.request, str(exc))
            return redirect(self.get_step_url(self.steps.current))

    def _ask_before_removing(self, agreed: str = "") -> HttpResponse | None:
        """A change that would delete answers on other pages (work no longer a topic, say, or
        less to be written down) is not saved unasked: the page comes back with what was chosen,
        naming the pages whose answers would go (their titles are in the steps list on screen
        already), with a button that saves it anyway. None when nothing would be lost, or when
        `agreed` is the digest of exactly this loss (the one the client confirmed)."""
        form = self._posted_form()
        if not form.is_valid():
            return None  # the page comes back with what to fix; nothing is saved
        lost = intake_answers_lost_by(intake=self.intake, step=form.step, answers=form.answers())
        digest = _fingerprint(sorted(lost))
        if not lost or agreed == digest:
            return None
        post = self.request.POST
        action = (
            "leave"
            if "save_and_leave" in post
            else f"goto:{post['wizard_goto_step']}"
            if post.get("wizard_goto_step")
            else "next"
        )
        # Each page once: all its answers, or how many of them; titled as the steps list has it.
        kind, topic = self.intake.kind, work_is_a_topic(self.intake.answers)
        counts: dict[str, int | None] = {}
        for item in lost:
            name, _, field = item.partition(".")
            counts[name] = None if not field else (counts.get(name) or 0) + 1
        pages = [
            {
                "title": tr(STEPS_BY_NAME[name].title_for(kind=kind, work_topic=topic)),
                "answers": count,
            }
            for name, count in counts.items()
        ]
        return self.render(form, removal={"pages": pages, "action": f"{action}|{digest}"})

    def _seen(self, step_name: str) -> str:
        """A fingerprint of a page's saved answers, sent back with the page: a save made
        elsewhere since it was shown (in another tab) changes it."""
        answers = step_answers(
            intake=self.intake, step=STEPS_BY_NAME[step_name], viewer=self.request.user
        )
        return _fingerprint(answers)

    def _unasked(self, step: Step) -> list[dict[str, Any]]:
        """Answers a page sends to questions that an answer saved since it was shown (in another
        tab, say) has switched off: each question as the page asked it, with what was written."""
        return self._posted_words(step, step.not_asked(self.intake.kind, self.intake.answers))

    def _posted_words(self, step: Step, names: list[str]) -> list[dict[str, Any]]:
        """What the posted page held for these questions, each as the page asked it, choices
        by their labels: shown back when it could not be saved, so nothing typed is lost."""
        out = []
        topic = work_is_a_topic(self.intake.answers)
        for name in names:
            sent = [v for v in self.request.POST.getlist(f"{step.name}-{name}") if v.strip()]
            if not sent:
                continue
            spec = next(f for f in step.fields if f.name == name)
            couple = self.intake.kind == "couple"
            labels = {c.code: tr(c.for_screen(topic, couple)) for c in spec.choices}
            question = field_label(spec, kind=self.intake.kind, work_topic=topic)
            out.append({"question": question, "words": [labels.get(v, v) for v in sent]})
        return out

    def _posted_form(self) -> StepForm:
        """The form of the page that was posted: its own step, not whatever another tab saved."""
        posted_step = self.request.POST.get(f"{self.prefix}-current_step")
        if posted_step in self.get_form_list():
            self.storage.current_step = posted_step
        form: StepForm = self.get_form(data=self.request.POST, files=self.request.FILES)
        return form

    def render_goto_step(self, goto_step: str, **kwargs: Any) -> HttpResponse:
        """Going back or jumping keeps what was typed on this page, when it is valid (#284)."""
        form = self._posted_form()
        if form.is_valid():
            self._submit(form)
            self.__dict__.pop("_resolved_form_list", None)
        if goto_step not in self.get_form_list():  # the jump target was just switched off
            goto_step = self.steps.current
        return super().render_goto_step(goto_step, **kwargs)

    def _save_and_leave(self) -> HttpResponse:
        form = self._posted_form()
        if not form.is_valid():  # never drop typed answers silently
            return self.render(form)
        self._submit(form)
        # A page about this intake only: never the home page, which lists other clients.
        return redirect("intake-paused", intake_id=self.intake.pk)

    def render_done(self, form: StepForm, **kwargs: Any) -> HttpResponse:
        # Steps never shown count as never asked: validate them as empty, so only required
        # steps (consent, goals, review) send the clinician back.
        for step_name in self.get_form_list():
            data = self.storage.get_step_data(step_name)
            bound = self.get_form(
                step=step_name, data=data if data is not None else MultiValueDict()
            )
            if not bound.is_valid():
                return self.render_revalidation_failure(step_name, bound, **kwargs)
        return self.done([], **kwargs)

    def done(self, form_list: Any, **kwargs: Any) -> HttpResponse:
        plan = intake_complete(intake=self.intake, actor=self.actor)
        messages.success(  # in the client's language, as the plan page it lands on
            self.request, gettext("Intake complete. Here is the draft plan to go over together.")
        )
        return HttpResponseRedirect(reverse("plan-detail", kwargs={"plan_id": plan.pk}))

    def get_context_data(self, form: StepForm, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(form=form, **kwargs)
        enabled = list(self.get_form_list())
        current = self.steps.current
        spec = localize_step(form.step)
        topic = work_is_a_topic(self.intake.answers)
        context.update(
            intake=self.intake,
            step_spec=spec,
            step_title=spec.title_for(kind=self.intake.kind, work_topic=topic),
            step_intro=spec.intro_for(kind=self.intake.kind, work_topic=topic),
            step_number=enabled.index(current) + 1,
            step_total=len(enabled),
            step_links=[
                {
                    "name": s.name,
                    "title": tr(s.title_for(kind=self.intake.kind, work_topic=topic)),
                    "current": s.name == current,
                    # Ticked once something on it is answered: a page passed with nothing
                    # filled in is saved, but not ticked as if it were done.
                    "complete": _answered(self.intake.answers.get(s.name)),
                }
                for s in STEPS
                if s.name in enabled
            ],
            review=self._review() if current == "review" else None,
            # On the page as shown, not over the answer to a button pressed on it.
            held_back=self._held_back(form.step, topic) if self.request.method == "GET" else [],
            seen=self._seen(current),
            quick_save_token=quick_save_token(
                intake=self.intake, request=self.request, step=current
            ),
        )
        return context

    def _held_back(self, step: Step, topic: bool) -> list[dict[str, Any]]:
        """What a quick exit could not save on this page, each question as the page asks it,
        with the words typed when they did not fit: said until the page is saved again, so
        that nothing is lost without a word."""
        held = self.intake.held_back.get(step.name, {})
        return [
            {"question": field_label(f, kind=self.intake.kind, work_topic=topic), **held[f.name]}
            for f in step.fields
            if f.name in held
        ]

    def _review(self) -> list[dict[str, Any]]:
        """Everything entered, in step order, with labels instead of codes."""
        out = []
        term = work_term(self.intake.answers)
        topic = work_is_a_topic(self.intake.answers)
        for name in self.get_form_list():
            spec = next(s for s in STEPS if s.name == name)
            if name == "review":
                continue
            answers = step_answers(intake=self.intake, step=spec, viewer=self.request.user)
            form = self.get_form(step=name)
            rows = []
            for field in form.shown_fields():  # not recorded or not this kind's: not shown
                value = None if answers is None else answers.get(field.name)
                labels = dict(form.fields[field.name].choices) if field.choices else {}  # type: ignore[attr-defined]
                if isinstance(value, list):
                    shown = [labels.get(v, v) for v in value]
                elif isinstance(value, bool):
                    shown = [gettext("Yes") if value else gettext("No")]
                elif value:
                    shown = [labels.get(value, value)]
                else:
                    shown = []
                rows.append({"label": form.fields[field.name].label, "values": shown})
            out.append(
                {
                    "name": name,
                    "title": tr(spec.title_for(kind=self.intake.kind, work_topic=topic)),
                    "answered": answers is not None,
                    "rows": rows,
                    "term": term,
                    "note": (
                        self._pronouns_on_record() if name == "about" and answers is None else ""
                    ),
                }
            )
        return out

    def _pronouns_on_record(self) -> str:
        """ "About you" never saved: the plan then shows the pronouns on the client's record
        (documents.context._people), and the review says so rather than leave it a surprise."""
        client = self.intake.client
        if self.intake.kind == "couple" or not client.pronouns:
            return ""
        note = gettext(
            "Until you save this page, the plan uses the pronouns on your record: %(p)s."
        )
        return note % {"p": client.pronouns}
