"""The intake definition in the language being shown (Django's active language).

forms/intake.py keeps plain English strings (marked with `_` for the catalogues in
backend/locale/), so every reader that does not show text to a person (codes, FHIR systems,
hashes) is unaffected. Readers that do (the wizard, GET /api/v1/forms/{kind}/?lang=, the plan PDF)
ask for it through `tr` or `localize_step` under `translation.override(language)`. The client's own
words and own term never pass through here.
"""

from dataclasses import replace
from functools import cache

from django.core.exceptions import ImproperlyConfigured

from .intake import WORKER, _retention_days, consent_intro
from .spec import Choice, Field, Step


def _mark(message: str) -> str:
    """Marks a string for the catalogues; translated where shown, with `tr`."""
    return message


_ = _mark
# Labels other modules pass to `term_label` (the plan's headings).
_("Your work")
_("Care plan")  # the plan's title, translated in plan_templates/base.html
_("Work")
_("%(label)s (you call it “%(term)s”)")
_("%(names)s and %(last)s")


def _active() -> str:
    try:
        from django.utils.translation import get_language

        return get_language() or "en"
    except ImproperlyConfigured:  # read outside the Django project: English
        return "en"


def tr(text: str) -> str:
    """`text` from forms/ in the active language; English (and any text not in the catalogue)
    comes back unchanged. Couple labels built from `WORKER + question` are translated by part."""
    if not text or _active().split("-")[0] == "en":
        return text
    from django.utils.translation import gettext

    translated = gettext(text)
    if translated != text or WORKER not in text or text == WORKER:
        return translated
    return gettext(WORKER).join(tr(part) for part in text.split(WORKER))


def _opt(text: str | None) -> str | None:
    return tr(text) if text else text


def localize_choice(choice: Choice) -> Choice:
    return replace(
        choice,
        label=tr(choice.label),
        plan_label=_opt(choice.plan_label),
        general_label=_opt(choice.general_label),
        general_plan_label=_opt(choice.general_plan_label),
        couple_label=_opt(choice.couple_label),
    )


def localize_field(spec: Field) -> Field:
    return replace(
        spec,
        label=tr(spec.label),
        why=tr(spec.why),
        help=tr(spec.help),
        general_label=_opt(spec.general_label),
        couple_label=_opt(spec.couple_label),
        choices=tuple(localize_choice(c) for c in spec.choices),
    )


def localize_step(step: Step) -> Step:
    if _active().split("-")[0] == "en":
        return step
    return _localized(step, _active())


@cache
def _localized(step: Step, language: str) -> Step:
    consent = step.name == "consent"
    intro = consent_intro(_retention_days(), tr) if consent else tr(step.intro)
    return replace(
        step,
        title=tr(step.title),
        intro=intro,
        general_title=_opt(step.general_title),
        couple_title=_opt(step.couple_title),
        couple_intro=(
            consent_intro(_retention_days(), tr, couple=True)
            if consent
            else _opt(step.couple_intro)
        ),
        general_intro=_opt(step.general_intro),
        fields=tuple(localize_field(f) for f in step.fields),
    )


def translations(text: str) -> dict[str, str]:
    """`text` (English, from forms/) in every other configured language that has it, for
    readers that carry all languages at once (the FHIR Questionnaire's translation extensions)."""
    from django.conf import settings
    from django.utils import translation

    from .intake import CONSENT_INTRO, COUPLE_CONSENT_INTRO

    out = {}
    for code, _name in settings.LANGUAGES:
        if code.split("-")[0] == "en" or not text:
            continue
        with translation.override(code):
            if text in (CONSENT_INTRO, COUPLE_CONSENT_INTRO):
                couple = text == COUPLE_CONSENT_INTRO
                translated = consent_intro(_retention_days(), tr, couple=couple)
            else:
                translated = tr(text)
        if translated != text:
            out[code] = translated
    return out
