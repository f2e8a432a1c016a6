"""The one definition of a plan edit: fields, limits, labels and cleaning.

The API serializers (plans/api.py) and the web editor's forms (plans/web_forms.py) are both
generated from the specs below, as forms/django_forms.py is generated from forms/. Rules that need
the database (a goal id belongs to this plan, an agency is in this clinic's directory) are checked
by `plan_update` and `plan_review_record`, which raise `PlanInvalid` naming the field.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from forms.spec import newlines
from referrals.models import ClientDecision as ReferralDecision

from .models import TEXT_MAX, ClientDecision, StepOwner

GOALS_MAX = 20
STEPS_MAX = 20
REFERRALS_MAX = 30
STRENGTHS_MAX = 40
SUPPORTS_MAX = 20
PROGRESS_MIN, PROGRESS_MAX = 0, 4

Kind = Literal["text", "date", "choice", "id", "int", "choices"]


class PlanInvalid(Exception):
    """A plan edit that the database says no to; `errors` maps a dotted field path to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("plan edit is not valid")
        self.errors = errors


FILL_IN = _("Please fill this in.")


@dataclass(frozen=True)
class PlanField:
    name: str
    kind: Kind
    label: Any  # a lazy translation: the API says it in English, the editor in its language
    max_length: int = 0
    # Required in a new row (a goal, a step...); an existing row may be sent in part.
    required: bool = False
    choices: tuple[tuple[str, Any], ...] = ()
    help: Any = ""
    multiline: bool = False
    # Clinician-written text that the language check reads (the client's words never are).
    language_check: bool = False
    # Shown with a character counter in the browser.
    counter: bool = False
    required_message: Any = FILL_IN
    # For a row added on the page, which has no "Remove" to tick (None: required_message).
    new_row_message: Any = None
    # Shown as radio buttons (a decision to see at once) rather than a compact select.
    radio: bool = False


ID = PlanField("id", "id", "id")

GOAL_FIELDS = (
    ID,
    PlanField(
        "client_words",
        "text",
        _("The goal, in the client's words"),
        max_length=500,
        required=True,
        multiline=True,
        counter=True,
        help=_("Kept exactly as the client says it."),
        required_message=_("Write the goal in the client's words, or tick “Remove this goal”."),
        new_row_message=_("Write the goal in the client's words, or leave the new goal empty."),
    ),
    PlanField(
        "clinical_restatement",
        "text",
        _("Clinician's restatement (optional)"),
        max_length=1000,
        multiline=True,
        language_check=True,
    ),
    PlanField("target_date", "date", _("Aiming for (date, optional)")),
)

STEP_FIELDS = (
    ID,
    PlanField(
        "description",
        "text",
        _("Step"),
        max_length=500,
        required=True,
        language_check=True,
        required_message=_("Write the step, or tick “Remove”."),
        new_row_message=_("Write the step, or leave the row empty."),
    ),
    # No default: who does a step is the client's choice, never preselected.
    PlanField(
        "who",
        "choice",
        _("Who does it"),
        required=True,
        choices=tuple(StepOwner.choices),
        required_message=_("Choose who does this step."),
    ),
    PlanField("frequency", "text", _("How often (optional)"), max_length=100),
)

REFERRAL_FIELDS = (
    ID,
    PlanField(
        "agency",
        "id",
        _("Service"),
        required=True,
        required_message=_("Choose a service from your directory."),
    ),
    # No default: the client's decision is recorded only when they give it.
    PlanField(
        "client_decision",
        "choice",
        _("The client's decision"),
        required=True,
        choices=tuple(ReferralDecision.choices),
        required_message=_("Choose the client's decision (“You haven't decided yet” is a choice)."),
    ),
    PlanField("note", "text", _("Note (optional)"), max_length=1000, multiline=True),
)

# The sections of the take-home PDF (DESIGN, "The client's copy"), each with what it holds in
# plain words. The client chooses which go home; the clinic's copy always has every section.
COPY_SECTIONS = (
    ("goals", _("Your goals: your goals in your own words, and the steps")),
    (
        "strengths",
        _("Your strengths: what you already do to stay safe, what helps you cope, and notes on it"),
    ),
    ("work", _("Your work: what you would like for your work, in your own word for it")),
    (
        "change",
        _(
            "Looking after yourself and making a change: the parts of your work you chose to "
            "look after, and any change you plan, its stages and what might make it harder"
        ),
    ),
    ("supports", _("Support: the people and places you turn to, and services that might help")),
    (
        "safety_plan",
        _(
            "Staying safe: your back-up plan for hard times, and the offer of safety support "
            "(it says what others did to you)"
        ),
    ),
    ("referrals", _("Services: the services you talked about, by name, and your decision")),
    ("review", _("Review and agreement: when you look at the plan again, and your decision")),
    ("couple", _("Your relationship: what each of you said about it")),
)
SECTION_CODES = tuple(code for code, _ in COPY_SECTIONS)
# Work details, precautions, stigma and coping notes, exit planning and the safety follow-up:
# out of the client's copy until the client chooses them in (and never in a discreet copy).
PRIVATE_SECTIONS = frozenset({"strengths", "work", "change", "safety_plan", "couple"})


def default_client_copy_sections() -> list[str]:
    """Privacy by default: only the sections that say nothing about work, safety or stigma."""
    return [code for code in SECTION_CODES if code not in PRIVATE_SECTIONS]


PLAN_FIELDS = (
    PlanField(
        "safety_plan",
        "text",
        _("If things get hard (the client's own back-up plan)"),
        max_length=TEXT_MAX,
        multiline=True,
        counter=True,
    ),
    PlanField("review_date", "date", _("When we look at this plan again")),
    PlanField(
        "strengths_notes",
        "text",
        _("Notes on strengths and coping (the client's words, printed with their strengths)"),
        max_length=TEXT_MAX,
        multiline=True,
    ),
    PlanField(
        "supports_notes",
        "text",
        _("Notes on supports (printed with the support around them)"),
        max_length=TEXT_MAX,
        multiline=True,
    ),
    PlanField(
        "client_copy_sections",
        "choices",
        _("What goes in the client's printed copy"),
        choices=COPY_SECTIONS,
        help=_(
            "Choose together. A printed copy can be found by anyone the client lives with, "
            "a partner, or the police. Ticked parts are printed in the client's copy; the rest "
            "stays in the clinic's record only."
        ),
    ),
)
# The plan fields that the web page edits (the notes are edited over the API only).
WEB_PLAN_FIELDS = (
    "safety_plan",
    "strengths_notes",
    "supports_notes",
    "review_date",
    "client_copy_sections",
)

AGREEMENT_FIELDS = (
    PlanField(
        "client_decision",
        "choice",
        _("The client's decision on this plan as shown"),
        choices=tuple(ClientDecision.choices),
        radio=True,
        help=_("Leave this unanswered until the client has read the plan and decided."),
    ),
    PlanField(
        "client_comment",
        "text",
        _("The client's comment (optional)"),
        max_length=TEXT_MAX,
        multiline=True,
    ),
    PlanField(
        "client_signed_name",
        "text",
        _("Client's signature: their name as they want it on the plan (optional)"),
        max_length=100,
    ),
    PlanField(
        "clinician_signed_name",
        "text",
        _("Clinician's signature: your name (optional)"),
        max_length=100,
    ),
)

# A couple decide and sign together, in the same fields: the page says them to both.
COUPLE_AGREEMENT: dict[str, tuple[Any, Any]] = {
    "client_decision": (
        _("The couple's decision on this plan as shown"),
        _("Leave this unanswered until both of them have read the plan and decided."),
    ),
    "client_comment": (_("The couple's comment (optional)"), ""),
    "client_signed_name": (
        _("Their signatures: both names as they want them on the plan (optional)"),
        "",
    ),
}
COUPLE_DECISIONS = {
    "agrees": _("We agree with this plan"),
    "wants_changes": _("We agree, with the changes we asked for"),
}

REVIEW_GOAL_FIELDS = (
    PlanField("goal", "id", _("Goal"), required=True),
    PlanField(
        "progress",
        "int",
        _("The client's rating"),
        required=True,
        radio=True,
        required_message=_("Choose the client's rating, from 0 to 4."),
    ),
    PlanField(
        "client_note", "text", _("The client's note (optional)"), max_length=1000, multiline=True
    ),
)
REVIEW_FIELDS = (
    PlanField(
        "note", "text", _("Note on this review (optional)"), max_length=TEXT_MAX, multiline=True
    ),
)
PROGRESS_LABELS = {
    0: _("Not started"),
    1: _("A little"),
    2: _("Halfway"),
    3: _("Most of the way"),
    4: _("Done"),
}


def clean_text(value: str) -> str:
    """One cleaning rule for every text, as for the intake's answers: no surrounding
    whitespace, line breaks as "\n" (forms.spec.newlines), otherwise verbatim."""
    return newlines(value).strip()


ONE_LINE = _("This is one line: leave out line breaks.")
DATES_FROM = date(2000, 1, 1)
DATES_YEARS_AHEAD = 20


def plausible_date(value: date | None) -> None:
    """A plan's dates (a review, a goal's aim) fall between 2000 and twenty years from now: a
    year like 1900 or 0202 is a slip of the keyboard, and is asked about instead of kept."""
    if value is None:
        return
    last = timezone.localdate().year + DATES_YEARS_AHEAD
    if not DATES_FROM <= value <= date(last, 12, 31):
        raise ValidationError(
            gettext("Check the year: a date from %(first)s to %(last)s.")
            % {"first": DATES_FROM.year, "last": last},
            code="implausible",
        )


def text_errors(spec: PlanField, value: str) -> list[str]:
    """What is wrong with a cleaned text for this field, beyond its length: a one-line field
    (a box that a browser cannot put a line break in) holds one line from the API too, so
    that the web editor shows and saves back exactly what is stored."""
    return [str(ONE_LINE)] if not spec.multiline and "\n" in value else []


def clean_choices(spec: PlanField, codes: list[str]) -> list[str]:
    """A set of codes in the contract's own order, each once (the order sent does not matter)."""
    chosen = set(codes)
    return [code for code, _ in spec.choices if code in chosen]
