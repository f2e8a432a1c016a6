"""The intake, step by step: the one definition of every question (see DESIGN.md for the codes).

Wording follows GUIDELINES.md: nothing assumes the client wants to leave the sex trade or that
their work is why they came; every sensitive item is optional and offers "prefer not to say";
precautions and coping are strengths. The client's own term for their work (`about.work_term`)
is never slotted into a sentence: where it is shown, it is a quoted label beside neutral words
(`Choice.shows_term`). Labels in the client's voice ("I", "my") carry a `plan_label` that the plan
says to the client ("you", "your"). A couple are two people: `couple_label`s address each of them.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .spec import (
    PREFER_NOT_TO_SAY,
    AllOf,
    AnswerHas,
    AnswerIn,
    AnswerNotIn,
    ByKind,
    Choice,
    Field,
    KindIs,
    Step,
)


def _(message: str) -> str:
    """Marks a string for the catalogues (`makemessages` reads `_(...)`); it stays English here,
    for every reader, and forms/localize.py translates it where it is shown."""
    return message


FORM_VERSION = "2026-11-2"
KINDS = ("individual", "couple")

PNTS = Choice(PREFER_NOT_TO_SAY, _("I'd rather not say"), exclusive=True)

# Work is a topic when the client says so (`work_focus`), or, for a couple, when they chose it
# together (`couple_topics` includes `sex_work`; unticked by default, couples guideline 4).
WORK_FOCUS_IS_WORK = AnswerIn("about", "work_focus", frozenset({"central", "part"}))
COUPLE_WORK_TOPIC = "sex_work"
COUPLE_CHOSE_WORK = AnswerHas("partner", "couple_topics", COUPLE_WORK_TOPIC)
WORK_IS_A_TOPIC = ByKind((("individual", WORK_FOCUS_IS_WORK), ("couple", COUPLE_CHOSE_WORK)))
WORK_DETAILS_WANTED = AllOf(
    (
        WORK_IS_A_TOPIC,
        AnswerNotIn("consent", "recording_preference", frozenset({"no_work_details"})),
    )
)
CHANGING_WORK = AnswerIn("work_plans", "work_direction", frozenset({"leave", "reduce"}))
# Harm reduction has the same weight as change (G2, G6): for whoever keeps working, as they are,
# differently or less (doing less is not a step towards leaving unless they say so), or has
# not decided.
KEEPING_ON = AnswerIn(
    "work_plans",
    "work_direction",
    frozenset({"continue", "change_conditions", "reduce", "undecided"}),
)
# "Anything you'd like to change about how or where you work?" is asked of whoever chose to
# change how or where they work, or has not decided; never after "keep going as I am" (G6).
OPEN_TO_CHANGING_HOW = AnswerIn(
    "work_plans", "work_direction", frozenset({"change_conditions", "undecided"})
)
WORKER = _("For the partner whose work this is: ")


def _retention_days() -> int:
    try:
        return int(settings.RETENTION_DAYS)
    except (ImproperlyConfigured, AttributeError):  # read outside the Django project
        return 7 * 365


def retention_sentence(
    days: int, translate: Callable[[str], str] = _, *, couple: bool = False
) -> str:
    """How long records are kept, in plain words (settings.RETENTION_DAYS); to a couple, said
    to both."""
    if days <= 0:
        if couple:
            return translate(
                _("Your records are kept until either of you or the clinic erase them.")
            )
        return translate(_("Your records are kept until you or the clinic erase them."))
    if days == 365:
        span = translate(_("1 year"))
    elif days % 365 == 0:
        span = translate(_("%(count)d years")) % {"count": days // 365}
    else:
        span = translate(_("%(count)d days")) % {"count": days}
    if couple:
        sentence = _(
            "Your records are kept for %(span)s after your care together ends, "
            "then erased completely."
        )
    else:
        sentence = _(
            "Your records are kept for %(span)s after your care with us "
            "ends, then erased completely."
        )
    return translate(sentence) % {"span": span}


def consent_intro(days: int, translate: Callable[[str], str] = _, *, couple: bool = False) -> str:
    """`translate` is gettext where the text is shown in the client's language. To a couple,
    the same limits and promises, said to both (Spanish "vosotros")."""
    if couple:
        shared = _(
            "What you both share here is confidential, with a few limits that your clinician "
            "will explain: the law requires us to report some things, such as a serious "
            "risk to someone's life or a child at risk of harm, and a court can order "
            "records to be shared. Inside the clinic, only your care team (the clinicians "
            "who work with you) reads your answers and your plan."
        )
        choices = _(
            "You can ask us to erase all of it sooner, at any time. You choose together how "
            "much is written down. You can skip any question, and you can stop at any time."
        )
    else:
        shared = _(
            "What you share here is confidential, with a few limits that your clinician "
            "will explain: the law requires us to report some things, such as a serious "
            "risk to someone's life or a child at risk of harm, and a court can order "
            "records to be shared. Inside the clinic, only your care team (the clinicians "
            "who work with you) reads your answers and your plan."
        )
        choices = _(
            "You can ask us to erase all of it sooner, at any time. You choose how much is "
            "written down. You can skip any question, and you can stop at any time."
        )
    return " ".join(
        (
            translate(shared),
            translate(CONNECTED),
            retention_sentence(days, translate, couple=couple),
            translate(choices),
        )
    )


# Said to one person or two alike.
CONNECTED = _(
    "If the clinic links this service to another system, such as a health record, what that "
    "system needs is shared with it."
)


# Read once at start-up, like every setting: the text is a plain string for every reader.
CONSENT_INTRO = consent_intro(_retention_days())
COUPLE_CONSENT_INTRO = consent_intro(_retention_days(), couple=True)

# What is recorded (DESIGN "What is recorded"): `minimal` stores only what the plan prints, so
# free text the plan does not use is neither asked nor kept; `no_work_details` keeps nothing
# about the work, not even whether it is a topic or what the client calls it.
NOT_MINIMAL = AnswerNotIn("consent", "recording_preference", frozenset({"minimal"}))
WORK_RECORDED = AnswerNotIn("consent", "recording_preference", frozenset({"no_work_details"}))
WORK_PLANS_WANTED = AllOf((WORK_IS_A_TOPIC, WORK_RECORDED))
CHANGE_PLANNING_WANTED = AllOf((CHANGING_WORK, WORK_RECORDED))

CONSENT = Step(
    name="consent",
    title=_("Before we start"),
    intro=CONSENT_INTRO,
    couple_intro=COUPLE_CONSENT_INTRO,
    fields=(
        Field(
            "confidentiality_explained",
            "bool",
            _("My clinician has explained confidentiality and its limits, and I'm ready to go on."),
            couple_label=_(
                "Our clinician has explained confidentiality and its limits to each of us, and "
                "we're both ready to go on."
            ),
            why=_("So that you know who can see what before you share anything."),
            required=True,
        ),
        Field(
            "recording_preference",
            "choice",
            _("How much would you like written down?"),
            couple_label=_("How much would you both like written down?"),
            why=_(
                "Records can be requested by courts and others. Writing down less is always fine."
            ),
            required=True,
            choices=(
                Choice(
                    "full",
                    _("Write down what I share, so my plan can reflect it"),
                    couple_label=_("Write down what we share, so our plan can reflect it"),
                ),
                Choice(
                    "minimal",
                    _("Write down only what my plan needs"),
                    couple_label=_("Write down only what our plan needs"),
                ),
                Choice(
                    "no_work_details",
                    _("Don't write down details about my work"),
                    couple_label=_("Don't write down details about work"),
                ),
            ),
        ),
    ),
)

ABOUT = Step(
    name="about",
    title=_("About you"),
    couple_title=_("About you both"),
    intro=_("Tell us how you'd like to be addressed. Everything here is optional."),
    couple_intro=_(
        "Tell us how each of you would like to be addressed. Everything here is optional."
    ),
    fields=(
        Field(
            "preferred_name",
            "text",
            _("What would you like to be called?"),
            max_length=100,
            own_words=True,
            why=_("So that we use your name, not a form's."),
            only_kind="individual",
        ),
        Field(
            "pronouns",
            "text",
            _("Your pronouns"),
            max_length=50,
            own_words=True,
            why=_("So that we refer to you the way you want."),
            only_kind="individual",
        ),
        Field(
            "partner_a_name",
            "text",
            _("First person: what would you like to be called?"),
            max_length=100,
            own_words=True,
            why=_("So that we use each of your names, not a form's."),
            only_kind="couple",
        ),
        Field(
            "partner_a_pronouns",
            "text",
            _("First person: pronouns"),
            max_length=50,
            own_words=True,
            why=_("So that we refer to each of you the way you want."),
            only_kind="couple",
        ),
        Field(
            "partner_b_name",
            "text",
            _("Second person: what would you like to be called?"),
            max_length=100,
            own_words=True,
            why=_("So that we use each of your names, not a form's."),
            only_kind="couple",
        ),
        Field(
            "partner_b_pronouns",
            "text",
            _("Second person: pronouns"),
            max_length=50,
            own_words=True,
            why=_("So that we refer to each of you the way you want."),
            only_kind="couple",
        ),
        Field(
            "work_term",
            "text",
            _("If you do sex work, what do you call your work?"),
            recorded_when=WORK_RECORDED,
            couple_label=_("If either of you does sex work, what do you call it?"),
            help=_("For example: escorting, dancing, camming, sugaring, or any word you prefer."),
            why=_("We will use your word, not ours, everywhere in your plan."),
            max_length=60,
            own_words=True,
            sensitivity="sensitive",
        ),
        Field(
            "work_focus",
            "choice",
            _("How much does your work have to do with what you'd like to work on here?"),
            recorded_when=WORK_RECORDED,
            why=(
                _(
                    "Some people want to talk about their work and some don't. Your answer decides "
                    "whether we ask anything about it at all."
                )
            ),
            sensitivity="sensitive",
            # A couple choose their topics together instead (`partner.couple_topics`).
            only_kind="individual",
            choices=(
                Choice("central", _("It's central to what I'd like to work on")),
                Choice("part", _("It's part of it")),
                Choice("not_now", _("Not something I want to focus on now")),
                Choice("no", _("It's not connected to why I came")),
                PNTS,
            ),
        ),
    ),
)

GOALS = Step(
    name="goals",
    title=_("What you'd like to work on"),
    couple_title=_("What you'd both like to work on"),
    intro=_("In your own words. We will keep your words exactly as you write them."),
    couple_intro=_(
        "In your own words, shared or each your own. We will keep them exactly as you write them."
    ),
    fields=(
        Field(
            "client_goals",
            "text_list",
            _("Your goals"),
            couple_label=_("Your goals, shared or each your own"),
            why=_("Your plan is built around the goals you name, in your words."),
            help=(
                _(
                    "Up to 10. They can be big or small, and you can change them later. "
                    "Not sure yet? Tick the box below instead."
                )
            ),
            required_unless="goals_unsure",
            min_items=1,
            max_items=10,
            max_length=500,
            own_words=True,
        ),
        Field(
            "goals_unsure",
            "bool",
            _("I'm not sure yet — we'll work it out together"),
            couple_label=_("We're not sure yet — we'll work it out together"),
            why=_("Not knowing yet is a fine place to start. Your plan will say so."),
        ),
        Field(
            "what_brings_you",
            "text",
            _("Anything else about what brings you here?"),
            recorded_when=NOT_MINIMAL,
            why=_("Only if you'd like to add more."),
            own_words=True,
        ),
    ),
)

WORK_CONTEXT = Step(
    name="work_context",
    title=_("About your work"),
    intro=_("Only if you'd like to answer. Any of these can be skipped."),
    enabled_when=WORK_DETAILS_WANTED,
    fields=(
        Field(
            "work_types",
            "multi",
            _("What kinds of work do you do?"),
            couple_label=WORKER + _("what kinds of work do you do?"),
            why=_("Experiences differ a lot between kinds of work, so we don't assume."),
            sensitivity="restricted",
            choices=(
                Choice("street_based", _("Street-based")),
                Choice("escort_independent", _("Independent escorting")),
                Choice("agency", _("Through an agency")),
                Choice("massage", _("Massage")),
                Choice("dancing", _("Dancing or stripping")),
                Choice("webcam_online", _("Webcam or online")),
                Choice("phone_text", _("Phone or text")),
                Choice("porn", _("Adult film or photos")),
                Choice("bdsm", _("BDSM or domination")),
                Choice("sugar_dating", _("Sugar dating")),
                Choice("other", _("Something else")),
                PNTS,
            ),
        ),
        Field(
            "identity_place",
            "choice",
            _("How big a part of who you are is your work?"),
            couple_label=WORKER + _("how big a part of who you are is your work?"),
            why=_("For some people it's a big part of who they are; for others it's a small one."),
            sensitivity="sensitive",
            choices=(
                Choice("central", _("A central part")),
                Choice("significant", _("A significant part")),
                Choice("small", _("A small part")),
                PNTS,
            ),
        ),
        Field(
            "work_meaning",
            "text",
            _("Anything you'd like to say about what your work means to you?"),
            recorded_when=NOT_MINIMAL,
            couple_label=WORKER
            + _("anything you'd like to say about what your work means to you?"),
            why=_("Only if you want to. Your words are kept as you write them."),
            own_words=True,
            sensitivity="restricted",
        ),
        Field(
            "job_autonomy",
            "multi",
            _("Which of these do you decide for yourself at the moment, if any?"),
            couple_label=WORKER + _("which of these do you decide for yourself at the moment?"),
            why=(
                _(
                    "Having a say over your own work matters to wellbeing in any job. There is no "
                    "right answer, and you can skip this."
                )
            ),
            sensitivity="restricted",
            choices=(
                Choice("choose_clients", _("Which clients I see"), _("Which clients you see")),
                Choice("choose_hours", _("My hours"), _("Your hours")),
                Choice("own_money", _("The money I earn"), _("The money you earn")),
                Choice(
                    "say_no",
                    _("Saying no to anything I don't want to do"),
                    _("Saying no to anything you don't want to do"),
                ),
                Choice("none", _("None of these right now"), exclusive=True),
                PNTS,
            ),
        ),
    ),
)

PRECAUTIONS = Step(
    name="precautions",
    title=_("What you already do to look after yourself"),
    intro=(
        _(
            "Many people already have ways of keeping themselves safe and well at work. "
            "We record these as your strengths. We don't ask for methods, places, rates or "
            "names: please leave them out of what you write."
        )
    ),
    enabled_when=WORK_DETAILS_WANTED,
    fields=(
        Field(
            "precautions_used",
            "multi",
            _("What do you already do to stay safe?"),
            couple_label=WORKER + _("what do you already do to stay safe?"),
            why=_("So that your plan builds on what already works for you."),
            sensitivity="restricted",
            choices=(
                Choice("screening_clients", _("Screening clients")),
                Choice(
                    "limiting_services",
                    _("Choosing which services I offer"),
                    _("Choosing which services you offer"),
                ),
                Choice(
                    "protecting_privacy", _("Protecting my privacy"), _("Protecting your privacy")
                ),
                Choice("working_with_friends", _("Working with friends or colleagues")),
                Choice("working_independently", _("Working independently")),
                Choice(
                    "switching_employers",
                    _("Changing where or for whom I work"),
                    _("Changing where or for whom you work"),
                ),
                Choice("building_other_skills", _("Building other skills")),
                Choice("peer_support", _("Support from peers")),
                Choice("other", _("Something else")),
                PNTS,
            ),
        ),
        Field(
            "precautions_to_strengthen",
            "text",
            _("Is there anything you'd like to strengthen?"),
            couple_label=WORKER + _("is there anything you'd like to strengthen?"),
            why=_("Only if there's something you'd like support with."),
            own_words=True,
            sensitivity="restricted",
        ),
    ),
)

STIGMA_COPING = Step(
    name="stigma_coping",
    title=_("How others have treated you, and what helps"),
    general_title=_("How others have treated you, and what helps"),
    couple_title=_("How others have treated you both, and what helps"),
    intro=(
        _(
            "Sometimes people treat us unfairly because of who we are or what we do. "
            "These questions are about what others have done, not about you. All optional."
        )
    ),
    general_intro=_(
        "Sometimes people treat us unfairly because of who we are or how we live. "
        "These questions are about what others have done, not about you. All optional."
    ),
    couple_intro=_(
        "Sometimes people treat us unfairly because of who we are or how we live. "
        "These questions are about what others have done, not about who you are. All optional."
    ),
    fields=(
        Field(
            "stigma_experiences",
            "multi",
            _("Have you been treated unfairly because of your work?"),
            general_label=_(
                "Have you been treated unfairly because of who you are or how you live?"
            ),
            couple_label=(
                _(
                    "Has either of you been treated unfairly because of who you "
                    "are or how you live? "
                    "Tick anything that happened to either of you."
                )
            ),
            why=_("Unfair treatment can affect how we feel. Naming it helps us respond to it."),
            sensitivity="sensitive",
            choices=(
                Choice(
                    "prejudice",
                    _("People judged me or made assumptions"),
                    couple_label=_("Being judged, or people making assumptions"),
                ),
                Choice(
                    "discrimination",
                    _("I was treated unfairly, for example at work or with housing"),
                    couple_label=_("Unfair treatment, for example at work or with housing"),
                ),
                Choice(
                    "violence",
                    _("Someone was violent towards me"),
                    couple_label=_("Someone being violent"),
                ),
                Choice(
                    "internalized",
                    _("I've come to feel bad about myself because of how others see me"),
                    couple_label=_(
                        "Coming to feel bad about yourself because of how others see you"
                    ),
                ),
                Choice(
                    "isolation",
                    _("I've been left out or cut off"),
                    couple_label=_("Being left out or cut off"),
                ),
                Choice(
                    "refused_care",
                    _("I was refused care or treated badly by a service"),
                    couple_label=_("Being refused care or treated badly by a service"),
                ),
                Choice(
                    "police",
                    _("I was treated badly by police"),
                    couple_label=_("Being treated badly by police"),
                ),
                Choice("none", _("None of these"), exclusive=True),
                PNTS,
            ),
        ),
        Field(
            "coping_strategies",
            "multi",
            _("What helps you deal with how others see you?"),
            couple_label=_("What helps each of you deal with how others see you?"),
            why=_("These are your strengths. Your plan will respect them."),
            choices=(
                Choice(
                    "role_differentiation",
                    _("Keeping my work self and my other self apart"),
                    _("Keeping your work self and your other self apart"),
                    general_label=_("Keeping different parts of my life apart"),
                    general_plan_label=_("Keeping different parts of your life apart"),
                ),
                Choice("humor", _("Humour")),
                Choice(
                    "other_identities",
                    _("Focusing on other parts of who I am"),
                    _("Focusing on other parts of who you are"),
                ),
                Choice("future_focus", _("Focusing on my future"), _("Focusing on your future")),
                Choice(
                    "concealment",
                    _("Choosing who knows what about me"),
                    _("Choosing who knows what about you"),
                ),
                Choice("community", _("Being with people who understand")),
                Choice("other", _("Something else")),
            ),
        ),
        Field(
            "coping_notes",
            "text",
            _("Anything you'd like to add?"),
            recorded_when=NOT_MINIMAL,
            own_words=True,
            why=_("Only if you'd like to."),
            sensitivity="sensitive",
        ),
    ),
)

WORK_PLANS = Step(
    name="work_plans",
    title=_("Your plans for your work"),
    intro=(
        _(
            "There is no right answer. Whatever you choose, we support "
            "it, and you can change it later."
        )
    ),
    enabled_when=WORK_PLANS_WANTED,
    fields=(
        Field(
            "work_direction",
            "choice",
            _("What would you like for your work, for now?"),
            couple_label=WORKER + _("what would you like for your work, for now?"),
            why=_("So that your plan follows what you want, not what others assume."),
            sensitivity="sensitive",
            choices=(
                Choice("continue", _("Keep going as I am"), _("Keep going as you are")),
                Choice(
                    "change_conditions",
                    _("Change how or where I work"),
                    _("Change how or where you work"),
                ),
                Choice("reduce", _("Do less of it")),
                Choice("leave", _("Stop doing it")),
                Choice("undecided", _("I haven't decided"), _("You haven't decided yet")),
                Choice("not_relevant", _("This isn't what I want to work on")),
                PNTS,
            ),
        ),
    ),
)

HARM_REDUCTION = Step(
    name="harm_reduction",
    title=_("Looking after yourself in your work"),
    intro=(
        _(
            "For however you choose to work. Pick anything you'd like your plan to cover; "
            "every part is optional, and you can change it later."
        )
    ),
    enabled_when=AllOf((WORK_DETAILS_WANTED, KEEPING_ON)),
    fields=(
        Field(
            "occupational_health",
            "multi",
            _("Looking after your health at work: would any of these help?"),
            couple_label=WORKER + _("would any of these help with your health at work?"),
            why=_("Burnout and boundaries are part of health and safety in any job."),
            sensitivity="restricted",
            choices=(
                Choice("burnout", _("Feeling less worn out")),
                Choice(
                    "boundaries",
                    _("Keeping the boundaries I want"),
                    _("Keeping the boundaries you want"),
                ),
                Choice("rest", _("Rest and time off")),
                Choice("body", _("Aches, strain or injuries")),
                Choice("other", _("Something else")),
                PNTS,
            ),
        ),
        Field(
            "sexual_health",
            "choice",
            _("Would you like sexual health care in your plan?"),
            couple_label=WORKER + _("would you like sexual health care in your plan?"),
            why=_("Confidential, non-judgemental sexual health care, if and when you want it."),
            sensitivity="restricted",
            choices=(
                Choice("yes", _("Yes")),
                Choice("not_now", _("Not now")),
                PNTS,
            ),
        ),
        Field(
            "money_banking",
            "multi",
            _("Money and banking: would help with any of these be useful?"),
            couple_label=WORKER + _("would help with any of these money matters be useful?"),
            why=_("Some people find banks or landlords difficult because of their work."),
            sensitivity="restricted",
            choices=(
                Choice("bank_account", _("Opening or keeping a bank account")),
                Choice("saving", _("Saving")),
                Choice("taxes", _("Taxes and paperwork")),
                Choice("debt", _("Debt")),
                Choice("other", _("Something else")),
                PNTS,
            ),
        ),
        Field(
            "rights",
            "multi",
            _("Your rights: would information on any of these help?"),
            couple_label=WORKER + _("would information on your rights with any of these help?"),
            why=_("Knowing your rights can make dealing with police or landlords safer."),
            sensitivity="restricted",
            choices=(
                Choice("police", _("With the police")),
                Choice("landlords", _("With landlords and housing")),
                Choice("other", _("Something else")),
                PNTS,
            ),
        ),
        Field(
            "change_what",
            "text",
            _("Is there anything you'd like to change about how or where you work, and how?"),
            couple_label=WORKER
            + _("is there anything you'd like to change about how or where you work, and how?"),
            why=_("Only if you'd like to. Your words are kept as you write them."),
            own_words=True,
            sensitivity="restricted",
            enabled_when=OPEN_TO_CHANGING_HOW,
        ),
    ),
)

EXIT_PLANNING = Step(
    name="exit_planning",
    title=_("Making a change, at your pace"),
    intro=(
        _(
            "Change usually happens in steps, and going back for a while is a normal part of it. "
            "We focus on your goals and what would help you reach them."
        )
    ),
    enabled_when=CHANGE_PLANNING_WANTED,
    fields=(
        Field(
            "exit_stage",
            "choice",
            _("Where are you with this change?"),
            couple_label=WORKER + _("where are you with this change?"),
            why=_("So that support fits where you are now."),
            sensitivity="sensitive",
            choices=(
                Choice("thinking", _("Thinking about it")),
                Choice("planning", _("Planning")),
                Choice("first_steps", _("Taking first steps")),
                Choice("transitioning", _("In the middle of the change")),
                Choice(
                    "returned",
                    _("I went back for a while, and that's part of it"),
                    _("You went back for a while, and that's part of it"),
                ),
                PNTS,
            ),
        ),
        Field(
            "exit_barriers",
            "multi",
            _("What might make the change harder?"),
            couple_label=WORKER + _("what might make the change harder?"),
            why=_("So that we can look for practical help with each one."),
            sensitivity="sensitive",
            choices=(
                Choice("income", _("Income")),
                Choice("housing", _("Housing")),
                Choice(
                    "criminal_record",
                    _("A criminal record (help with record relief may be possible)"),
                ),
                Choice("id_documents", _("ID documents")),
                Choice(
                    "work_history_gap", _("Gaps in my work history"), _("Gaps in your work history")
                ),
                Choice("education", _("Education or training")),
                Choice("social_network", _("My social circle"), _("Your social circle")),
                Choice("childcare", _("Childcare")),
                Choice("immigration", _("Immigration status")),
                Choice("other", _("Something else")),
                PNTS,
            ),
        ),
        Field(
            "exit_goals",
            "text_list",
            _("Your personal and work goals"),
            couple_label=WORKER + _("your personal and work goals"),
            why=_("Your plan builds on the goals you name."),
            max_items=10,
            max_length=500,
            own_words=True,
        ),
    ),
)

SUPPORTS = Step(
    name="supports",
    title=_("Support around you"),
    couple_title=_("Support around you both"),
    intro=_("Who and what helps you, and what else might help."),
    couple_intro=_("Who and what helps each of you, and what else might help."),
    fields=(
        Field(
            "current_supports",
            "multi",
            _("Who do you turn to for support?"),
            couple_label=_("Who does each of you turn to for support?"),
            why=_("So that your plan includes the people you already rely on."),
            choices=(
                Choice("friends", _("Friends")),
                Choice("family", _("Family")),
                Choice("peers", _("Peers")),
                Choice("partner", _("A partner or partners")),
                Choice("community_org", _("A community organisation")),
                Choice("faith_community", _("A faith community")),
                Choice("none", _("No one right now"), exclusive=True),
            ),
        ),
        Field(
            "referral_needs",
            "multi",
            _("Would any of these services help?"),
            couple_label=_("Would any of these services help either of you?"),
            why=_("We can suggest services we have checked, and tell you how each one works."),
            choices=(
                Choice("housing", _("Housing")),
                Choice("legal", _("Legal help")),
                Choice("medical", _("Medical care")),
                Choice("sexual_health", _("Sexual health")),
                Choice("substance_use", _("Support with alcohol or drugs")),
                Choice("financial", _("Money and benefits")),
                Choice("peer_support", _("Peer support")),
                Choice("employment", _("Work and jobs")),
                Choice("education", _("Education or training")),
                Choice("other", _("Something else")),
            ),
        ),
        Field(
            "safety_plan",
            "text",
            _("If things get hard, what helps, and who can you reach?"),
            couple_label=_("If things get hard, what helps each of you, and who can you reach?"),
            why=_("A back-up plan in your own words, for the times you need it."),
            own_words=True,
            sensitivity="sensitive",
        ),
    ),
)

PARTNER = Step(
    name="partner",
    title=_("Your relationship"),
    intro=(
        _(
            "For couples. Each of you has your own view, and both are kept as given. "
            "You choose together which topics to work on; nothing is ticked for you."
        )
    ),
    enabled_when=KindIs("couple"),
    fields=(
        Field(
            "relationship_structure",
            "multi",
            _("How would you describe your relationship?"),
            why=_("So that we understand your relationship as you live it."),
            choices=(
                Choice("monogamous", _("Monogamous")),
                Choice("open", _("Open")),
                Choice("polyamorous", _("Polyamorous")),
                Choice("kink_involved", _("Kink is part of it")),
                Choice("other", _("Something else")),
                PNTS,
            ),
        ),
        Field(
            "partner_concerns",
            "text",
            _("Partner: what would you like to work on, in your words?"),
            recorded_when=NOT_MINIMAL,
            why=_("Your own view, including how others' attitudes have affected you."),
            own_words=True,
            sensitivity="sensitive",
        ),
        # Couples guidelines 1-2: the partner's own experience of stigma and their own needs,
        # asked about them, never asking them to judge anyone's work.
        Field(
            "partner_stigma",
            "multi",
            _("Partner: have others treated you unfairly because of your relationship?"),
            why=_("How others treat a couple can weigh on each of you. This is about you."),
            sensitivity="sensitive",
            choices=(
                Choice("judged", _("People judged me or made assumptions"), _("People judged you")),
                Choice(
                    "cut_off",
                    _("Family or friends pulled away from me"),
                    _("Family or friends pulled away from you"),
                ),
                Choice(
                    "treated_unfairly",
                    _("I was treated unfairly, for example at work or by a service"),
                    _("You were treated unfairly, for example at work or by a service"),
                ),
                Choice(
                    "keeping_quiet",
                    _("I feel I have to keep things to myself"),
                    _("You feel you have to keep things to yourself"),
                ),
                Choice("none", _("None of these"), exclusive=True),
                PNTS,
            ),
        ),
        Field(
            "partner_support_needs",
            "multi",
            _("Partner: what support would help you yourself?"),
            why=_("Your own needs count too, not only the relationship's."),
            choices=(
                Choice(
                    "someone_to_talk_to",
                    _("Someone to talk to on my own"),
                    _("Someone to talk to on your own"),
                ),
                Choice(
                    "others_like_us",
                    _("Meeting others in a relationship like ours"),
                    _("Meeting others in a relationship like yours"),
                ),
                Choice(
                    "own_session",
                    _("Some time with our clinician on my own"),
                    _("Some time with your clinician on your own"),
                ),
                Choice("information", _("Information about services and rights")),
                Choice("other", _("Something else")),
                PNTS,
            ),
        ),
        Field(
            "couple_topics",
            "multi",
            _("Which topics would you both like to work on?"),
            why=_("You decide the topics together. Nothing is chosen for you."),
            choices=(
                Choice("communication", _("Communication")),
                Choice("trust", _("Trust")),
                Choice("intimacy", _("Intimacy")),
                Choice("stigma", _("How others see us"), _("How others see you")),
                Choice("family", _("Family")),
                Choice(COUPLE_WORK_TOPIC, _("Sex work"), shows_term=True),
                Choice("other", _("Something else")),
            ),
        ),
        Field(
            "worker_description",
            "text",
            _("Only if you chose work as a topic. ")
            + WORKER
            + _("how do you see your work, in your own words?"),
            why=(
                _(
                    "Your account is kept word for word. Saving your other "
                    "answers never changes it; "
                    "only editing this box does."
                )
            ),
            own_words=True,
            sensitivity="restricted",
            enabled_when=COUPLE_CHOSE_WORK,
            recorded_when=WORK_RECORDED,
            kept_unless_sent=True,
        ),
    ),
)


def _private_check(name: str, title: str) -> Step:
    return Step(
        name=name,
        title=title,
        intro=(
            _(
                "Taken with this partner alone. The answers are for the care team only: "
                "never shown on joint pages or the joint review, never printed in the plan, "
                "never exported."
            )
        ),
        enabled_when=KindIs("couple"),
        audience="care_team",
        fields=(
            Field(
                "feels_safe",
                "choice",
                _("Do you feel safe in the relationship?"),
                why=_("So that we can offer support in private if it is needed."),
                sensitivity="restricted",
                safety_codes=frozenset({"no"}),
                choices=(
                    Choice("yes", _("Yes")),
                    Choice("mostly", _("Mostly")),
                    Choice("no", _("No")),
                    Choice("unsure", _("I'm not sure")),
                    PNTS,
                ),
            ),
            Field(
                "pressure",
                "choice",
                _("Do you feel pressure to come here or to talk about things you'd rather not?"),
                why=_("Couples work should be something both of you want."),
                sensitivity="restricted",
                safety_codes=frozenset({"a_lot"}),
                choices=(
                    Choice("none", _("None")),
                    Choice("some", _("Some")),
                    Choice("a_lot", _("A lot")),
                    PNTS,
                ),
            ),
            Field(
                "wants_individual_time",
                "bool",
                _("I'd like some time with the clinician on my own"),
                why=_("Anyone can ask for time alone, at any point."),
                sensitivity="restricted",
            ),
            Field(
                "private_notes",
                "text",
                _("Anything you'd like the clinician to know, just between you?"),
                why=_("Only if you'd like to."),
                own_words=True,
                sensitivity="restricted",
            ),
        ),
    )


PRIVATE_CHECK_A = _private_check("private_check_a", _("Private check with the first person"))
PRIVATE_CHECK_B = _private_check("private_check_b", _("Private check with the second person"))

REFLECTION = Step(
    name="reflection",
    title=_("Clinician's private reflection"),
    intro=(
        _(
            "Only you can see this (here, or through the API with your own token). It is never "
            "printed, never in FHIR or bulk exports, and never shown to anyone else, including "
            "clinic admins."
        )
    ),
    audience="author",
    fields=(
        Field(
            "reflection_notes",
            "text",
            _("How might your own views or experiences shape this work?"),
            why=_("Noticing our own reactions helps us stay with the client's goals."),
            sensitivity="restricted",
        ),
        Field(
            "consultation_wanted",
            "bool",
            _("I'd like to talk this through in consultation"),
            why=_("A reminder for you on your dashboard."),
        ),
    ),
)

REVIEW = Step(
    name="review",
    title=_("Look over your answers"),
    couple_title=_("Look over your answers together"),
    intro=_("Check everything together. You can go back and change any answer."),
    couple_intro=_(
        "Check everything together, with your clinician. You can go back and change any answer."
    ),
    fields=(
        Field(
            "findings_acknowledged",
            "bool",
            _("We've looked at the wording suggestions"),
            only_with_findings=True,
        ),
        Field(
            "confirmed",
            "bool",
            _("We've read this together and it reflects what was said"),
            required=True,
        ),
    ),
)

# `partner` comes before the work steps: a couple's work steps depend on the topics they choose
# there, and every condition reads only earlier steps. Individuals never see `partner`.
STEPS: tuple[Step, ...] = (
    CONSENT,
    PRIVATE_CHECK_A,
    PRIVATE_CHECK_B,
    ABOUT,
    GOALS,
    PARTNER,
    WORK_CONTEXT,
    PRECAUTIONS,
    STIGMA_COPING,
    WORK_PLANS,
    HARM_REDUCTION,
    EXIT_PLANNING,
    SUPPORTS,
    REFLECTION,
    REVIEW,
)
STEPS_BY_NAME = {step.name: step for step in STEPS}
