"""The plan as the PDF shows it: a pure function from a plan to a template context.

What the plan says and never says (GUIDELINES.md) is decided here: the client's own term for
their work; nothing about work when it is not a topic; nothing about change of work unless the
client chose to leave or reduce; never the clinician's reflection (it is not even read here).
"""

import re
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from forms import STEPS_BY_NAME, own_term, term_label, work_is_a_topic, work_term
from forms.flow import choice_text
from forms.intake import COUPLE_WORK_TOPIC
from plans.contract import PRIVATE_SECTIONS, SECTION_CODES
from plans.models import PlanStatus, StepOwner, TreatmentPlan
from plans.selectors import goal_progress, plan_representation
from referrals.selectors import caution_lines, safety_relevant

WHO = dict(StepOwner.choices)


@dataclass(frozen=True)
class CopyOptions:
    """Which copy of the plan a PDF is (DESIGN, "The client's copy"). The default is the
    clinic's copy: complete."""

    copy: str = "clinic"
    discreet: bool = False
    sections: tuple[str, ...] = SECTION_CODES

    @classmethod
    def of(cls, *, copy: str, discreet: bool, sections: Any) -> "CopyOptions":
        """Normalised, so that equal choices are equal options (and equal documents)."""
        if copy == "clinic":
            return cls()
        chosen = set(sections)
        if discreet:
            chosen -= PRIVATE_SECTIONS
        return cls("client", discreet, tuple(c for c in SECTION_CODES if c in chosen))

    @property
    def key(self) -> str:
        return f"{self.copy}|{int(self.discreet)}|{','.join(self.sections)}"


CLINIC_COPY = CopyOptions()

# Which context keys each section holds. A section left out is emptied here, so its words are
# not even in the template's context.
SECTION_KEYS = {
    "goals": ("goals",),
    "strengths": ("strengths_precautions", "strengths_coping", "strengths_notes"),
    "work": ("work",),
    "change": ("change", "harm_reduction", "strengthen"),
    "supports": ("supports", "supports_notes", "referral_needs"),
    "safety_plan": ("safety_plan", "safety"),
    "referrals": ("referrals",),
    "review": ("review_date", "agreement"),
    "couple": ("couple",),
}
DISCREET_TITLE = _("My plan")


def reveals_work(agency: Any, term: str | None) -> bool:
    """A service whose name or kind would tell a reader of a discreet copy about the work."""
    if agency.sex_worker_led or agency.requires_exit:
        return True
    if "bad_date_reporting" in (agency.safety_services or []):
        return True
    return names_work(agency.name, term)


# Words in free text that say what the plan is about, each from the start of a word (so not
# "Essex", "bisexual" or "sexual health"), in English and Spanish; a stem ending in \w* takes
# its other forms ("escorting", "prostitución").
WORK_WORDS = re.compile(
    r"(?<!\w)(?:sex(?!\w)|sex[\s-]?work\w*|sex[\s-]?trade|escort\w*|strip(?:per|pers|ping)\b"
    r"|strip[\s-]?club\w*|erotic\w*|brothel\w*|red[\s-]light|adult[\s-]work|prostitu\w*"
    r"|hook(?:er|ers|ing)\b|pimp\w*|porn\w*|onlyfans|only[\s-]fans|webcam\w*|cam[\s-]?(?:work|"
    r"girl|boy|model|site)\w*|camming|sugar[\s-](?:daddy|daddies|baby|babies|dating)"
    r"|massage[\s-]parlou?r\w*|punter\w*|trabajo[\s-]sexual|trabajador\w*[\s-]sexual\w*"
    r"|put[ao]s?\b)",
    re.IGNORECASE,
)
QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb"  # straight, curly and angle quotes


# Endings taken off the client's term to find its other forms, in English and Spanish, longest
# first ("dancing": "dance", "dancer"; "bailar": "baile", "bailo", "bailarinas").
TERM_ENDINGS = (
    "iendo", "ings", "ando", "ing", "ado", "ada", "ido", "ida", "ers", "er", "ar", "ir", "ed",
    "es", "os", "as", "s", "e", "o", "a",
)  # fmt: skip


def term_pattern(term: str | None) -> re.Pattern[str] | None:
    """The client's own word for their work as a reader would meet it: a whole word, without
    the quotes it may have been typed in ("it" is not in "with"), and in its other forms when
    enough of a word is left once the ending is off ("dancing" finds "dance" and "dancers";
    "cam work" finds "cam working"; "sw" stays whole)."""
    term = " ".join((term or "").strip().strip(QUOTES).split()).lower()
    if not term:
        return None
    *head, last = term.split(" ")
    stem = next((last[: -len(e)] for e in TERM_ENDINGS if last.endswith(e)), last)
    if len(stem) < 4:  # too little left: the shorter endings only ("dates": "date")
        stem = next(
            (last[: -len(e)] for e in TERM_ENDINGS if last.endswith(e) and len(last) - len(e) >= 4),
            last,
        )
    if len(stem) > 4 and stem[-1] == stem[-2] and len(stem) < len(last):
        stem = stem[:-1]  # "modelling", "stripping": "model", "strip"
    words = [re.escape(w) for w in head]
    words.append(rf"{re.escape(stem)}\w{{0,6}}" if len(stem) >= 4 else re.escape(last))
    return re.compile(r"(?<!\w)" + r"[\s-]+".join(words) + r"(?!\w)")


def names_work(text: str, term: str | None) -> bool:
    """Free text that would tell a reader of a discreet copy about the work: a word that says
    what the plan is about, or the client's own word for their work (term_pattern)."""
    if WORK_WORDS.search(text or ""):
        return True
    pattern = term_pattern(term)
    return pattern is not None and pattern.search((text or "").lower()) is not None


def _discreet_text(context: dict[str, Any], term: str | None) -> bool:
    """Leave out of a discreet copy each piece of free text that names the work: a goal whose
    words do (with its steps), a clinician's restatement, a step, a note or a comment. The
    clinic's copy keeps them all. True when something was left out (the copy then says so)."""
    goals, withheld = [], False
    for goal in context["goals"]:
        if names_work(goal["client_words"], term):
            withheld = True
            continue
        if names_work(goal.get("clinical_restatement", ""), term):  # the clinician's words only
            goal, withheld = {**goal, "clinical_restatement": ""}, True
        steps = [
            s
            for s in goal["steps"]
            if not (names_work(s["description"], term) or names_work(s.get("frequency", ""), term))
        ]
        progress = [
            {**p, "client_note": ""} if names_work(p.get("client_note", ""), term) else p
            for p in goal.get("progress", [])
        ]
        withheld |= len(steps) < len(goal["steps"]) or progress != goal.get("progress", [])
        goals.append({**goal, "steps": steps, "progress": progress})
    context["goals"] = goals
    if names_work(context["supports_notes"], term):
        context["supports_notes"], withheld = "", True
    for referral in context["referrals"]:
        if names_work(referral["note"], term):
            referral["note"], withheld = "", True
    agreement = context.get("agreement")
    if agreement and names_work(agreement.get("client_comment", ""), term):
        context["agreement"], withheld = {**agreement, "client_comment": ""}, True
    return withheld


def _empty(value: Any) -> Any:
    if isinstance(value, list):
        return []
    if isinstance(value, str):
        return ""
    return None


def _copy_of(
    context: dict[str, Any],
    plan: TreatmentPlan,
    options: CopyOptions,
    term: str | None,
    *,
    about_work: bool,
) -> dict[str, Any]:
    """Leave out the sections the copy does not have; a discreet copy is neutral throughout."""
    hidden = [code for code in SECTION_CODES if code not in options.sections]
    for code in hidden:
        for key in SECTION_KEYS[code]:
            context[key] = _empty(context[key])
    context["hidden"] = hidden
    if not about_work:
        # A service whose name or kind tells of the work is a part about work: in the client's
        # copy only once they tick a section about it (as the plan page says), never in a
        # discreet one, nor when work is not a topic.
        shown = {r.agency.name for r in plan.referrals.all() if not reveals_work(r.agency, term)}
        context["referrals"] = [dict(r) for r in context["referrals"] if r["name"] in shown]
    if options.discreet:
        # The page header (css) says the same neutral title: see base.html.
        context.update(title=DISCREET_TITLE, name="", pronouns="", people=[], discreet=True)
        if context.get("agreement"):  # signatures are names too
            context["agreement"] = {
                **context["agreement"],
                "client_signed_name": "",
                "clinician_signed_name": "",
            }
        context["withheld"] = _discreet_text(context, term)
    return context


CHANGING = {"leave", "reduce"}
# Directions that say nothing to put in a plan.
SILENT_DIRECTIONS = {None, "not_relevant", "prefer_not_to_say"}

# Practical pointers for each barrier the client names (Guideline 9): resources, not reasons.
BARRIER_HELP = {
    "income": _("Advice on income, benefits and budgeting during the change."),
    "housing": _("Housing support that does not depend on what work you do."),
    "criminal_record": _("Legal help with record relief (sealing or expungement) where it exists."),
    "id_documents": _("Help getting or replacing ID documents."),
    "work_history_gap": _("Help describing your skills and experience for applications."),
    "education": _("Courses and training that fit around your life."),
    "social_network": _("Peer groups and communities to stay connected with."),
    "childcare": _("Childcare support and advice."),
    "immigration": _("Confidential immigration advice."),
    "other": _("We will look for the right help together."),
}


# Harm reduction (G2, G6): for each part the client chose, what the plan offers. Practical
# pointers, as substantial as the help listed for a change of work.
OCCUPATIONAL_HELP = _(
    "Looking after your health at work is part of health and safety, as in any job. "
    "Your clinician can go through the points you chose with you."
)
SEXUAL_HEALTH_HELP = _(
    "Confidential, non-judgemental sexual health care: testing, prevention and treatment, "
    "when and where it suits you."
)
MONEY_HELP = _(
    "Advice on banking, saving, taxes and debt from people who will not judge how you earn."
)
RIGHTS_HELP = _(
    "Information on your rights, and legal help if you want it, from services that work "
    "without judgement."
)
# A safety follow-up, offered (never required) after violence, harm by police, or no one to
# turn to (G1, G5).
SAFETY_REASONS = {
    "violence": _("someone was violent towards you"),
    "police": _("you were treated badly by police"),
    "no_support": _("you have no one to turn to right now"),
}
SAFETY_REASONS_COUPLE = {  # the same English, said to both (Spanish "os", "vosotros")
    "violence": pgettext_lazy("couple", "someone was violent towards you"),
    "police": pgettext_lazy("couple", "you were treated badly by police"),
    "no_support": pgettext_lazy("couple", "you have no one to turn to right now"),
}
# A referral's decision as a couple's copy says it (their decision, said to both).
REFERRAL_DECISIONS = {
    "accepted": pgettext_lazy("couple", "You decided to use this service"),
    "declined": pgettext_lazy("couple", "You decided not to use this service"),
    "undecided": pgettext_lazy("couple", "You haven't decided yet"),
}


def _safety_codes(told: set[str], answers: dict[str, Any]) -> list[str]:
    codes: list[str] = [code for code in ("violence", "police") if code in told]
    if "none" in answers.get("supports", {}).get("current_supports", []):
        codes.append("no_support")
    return codes


SAFETY_OFFERS_GENERAL = (
    _("Peer support from people who have been through something similar."),
    _("Legal help, if you want to know your options."),
    _("Crisis lines you can call at any hour."),
)
SAFETY_OFFERS_WORK = (
    _("Peer-led services, run by people who do or have done the same work."),
    _(
        "Bad-date reporting: a way to warn others about someone who harmed you, without giving "
        "your name."
    ),
    _("Legal help, if you want to know your options."),
    _("Crisis lines that work with people in your line of work without judgement."),
)


def _label(step: str, field: str, code: str | None, term: str | None, topic: bool = True) -> str:
    """A choice as the plan says it to the client ("you"), with their term as a quoted label."""
    if not code:
        return ""
    spec = STEPS_BY_NAME[step].get_field(field)
    choice = next((c for c in spec.choices if c.code == code), None)
    if choice is None:
        return code
    return choice_text(choice, term=term, work_topic=topic, plan=True)


def _labels(
    step: str, field: str, codes: list[str], term: str | None, topic: bool = True
) -> list[str]:
    return [
        _label(step, field, c, term, topic) for c in codes if c not in ("prefer_not_to_say", "none")
    ]


def _people(plan: TreatmentPlan, answers: dict[str, Any]) -> list[dict[str, str]]:
    """Who the plan is for: one person, or each person of a couple with their own pronouns.
    The pronouns are the client's answer once "About you" is saved (the wizard offers those on
    record there; left blank, none are printed, as the intake's review says); before that, the
    ones on record."""
    about = answers.get("about", {})
    if plan.intake.kind == "couple":
        people = [
            {
                "name": about.get(f"partner_{x}_name", ""),
                "pronouns": about.get(f"partner_{x}_pronouns", ""),
            }
            for x in ("a", "b")
        ]
        people = [p for p in people if p["name"] or p["pronouns"]]
        if people:
            return people
    return [
        {
            "name": about.get("preferred_name") or plan.client.display_name,
            "pronouns": about.get("pronouns", "") if "about" in answers else plan.client.pronouns,
        }
    ]


def _harm_reduction(answers: dict[str, Any], term: str | None) -> dict[str, Any] | None:
    """Looking after yourself in your work: each part only when the client chose it."""
    hr = answers.get("harm_reduction", {})
    out = {
        "strengthen": answers.get("precautions", {}).get("precautions_to_strengthen", ""),
        "occupational": _labels(
            "harm_reduction", "occupational_health", hr.get("occupational_health", []), term
        ),
        "sexual_health": hr.get("sexual_health") == "yes",
        "money": _labels("harm_reduction", "money_banking", hr.get("money_banking", []), term),
        "rights": _labels("harm_reduction", "rights", hr.get("rights", []), term),
        "change_what": hr.get("change_what", ""),
    }
    if not any(out.values()):
        return None
    return {
        **out,
        "occupational_help": OCCUPATIONAL_HELP,
        "sexual_health_help": SEXUAL_HEALTH_HELP,
        "money_help": MONEY_HELP,
        "rights_help": RIGHTS_HELP,
    }


def _safety(plan: TreatmentPlan, answers: dict[str, Any], topic: bool) -> dict[str, Any] | None:
    """An offer of a safety follow-up when the client told us of violence, harm by police, or
    no one to turn to. Only an offer: the client decides."""
    told = set(answers.get("stigma_coping", {}).get("stigma_experiences", []))
    couple = plan.intake.kind == "couple"  # what the two of them told us, said to both
    said = SAFETY_REASONS_COUPLE if couple else SAFETY_REASONS
    reasons = [said[code] for code in _safety_codes(told, answers)]
    if not reasons:
        return None
    if len(reasons) == 1:
        told_us = (
            pgettext("couple", "You told us that %(what)s.")
            if couple
            else gettext("You told us that %(what)s.")
        )
        sentence = told_us % {"what": reasons[0]}
    else:
        first = str(reasons[0])
        for reason in reasons[1:-1]:
            first = gettext("%(earlier)s, that %(next)s") % {"earlier": first, "next": reason}
        told_us = (
            pgettext("couple", "You told us that %(first)s and that %(last)s.")
            if couple
            else gettext("You told us that %(first)s and that %(last)s.")
        )
        sentence = told_us % {
            "first": first,
            "last": reasons[-1],
        }
    return {
        "reasons": reasons,
        "told": sentence,
        "harmed": bool(told & {"violence", "police"}),
        "offers": list(SAFETY_OFFERS_WORK if topic else SAFETY_OFFERS_GENERAL),
        "services": [
            r.agency.name
            for r in plan.referrals.all()
            if safety_relevant(r.agency, work_topic=topic)
        ],
    }


def _progress(ratings: list[dict[str, Any]]) -> dict[str, Any]:
    """A goal's ratings over reviews, and the bars of its small chart (numbers only: the
    template draws them as inline SVG; no client text goes into the drawing)."""
    ratings = ratings[-12:]  # the last twelve reviews fit the width of a page
    bars = [
        {
            "x": 30 + i * 26,
            "y": 52 - r["progress"] * 12,
            "height": max(r["progress"] * 12, 1),
            "short_date": r["date"][5:],
        }
        for i, r in enumerate(ratings)
    ]
    return {
        "progress": ratings,
        "progress_chart": {"width": 40 + 26 * len(bars), "bars": bars},
    }


def _both(names: list[str]) -> str:
    """The names on the title, joined in the copy's language ("Sam and Alex", "Sam y Alex")."""
    if len(names) < 2:
        return "".join(names)
    first, second = names
    if translation.get_language() == "es" and re.match(r"h?[ií](?![aeouáéóú])", second, re.I):
        return f"{first} e {second}"  # "y" before the sound /i/ is "e": "Sam e Inés"
    return gettext("%(first)s and %(second)s") % {"first": first, "second": second}


def plan_names(plan: TreatmentPlan, people: list[dict[str, str]] | None = None) -> str:
    """Who the plan is for, as the PDF's title names them: a couple's two names ("Lucía and
    Marta"), or the name the client asked to be called (`people`: _people's, when at hand)."""
    people = _people(plan, plan.intake.answers) if people is None else people
    return _both([p["name"] for p in people if p["name"]])


def plan_context(plan: TreatmentPlan, options: CopyOptions = CLINIC_COPY) -> dict[str, Any]:
    answers = plan.intake.answers
    own = own_term(answers) if work_is_a_topic(answers) else None
    # A copy with no section about work (every discreet copy, and the client's copy by default)
    # is written as if work were not a topic: no work term, no work wording anywhere in it.
    topic = work_is_a_topic(answers) and bool(PRIVATE_SECTIONS & set(options.sections))
    term = own_term(answers) if topic else None
    rep = plan_representation(plan)
    progress = goal_progress(plan)
    direction = answers.get("work_plans", {}).get("work_direction") if topic else None
    people = _people(plan, answers)
    strengths = {
        "precautions": ("precautions", "precautions_used"),
        "coping": ("stigma_coping", "coping_strategies"),
    }

    context: dict[str, Any] = {
        "title": "Care plan",
        "kind": plan.intake.kind,
        # A couple's copy speaks to the two of them (`context "couple"` in the templates: the
        # same English, Spanish "vosotros"), except where a part is the worker's own.
        "to_both": plan.intake.kind == "couple",
        "people": people,
        "name": plan_names(plan, people),
        "pronouns": people[0]["pronouns"] if len(people) == 1 else "",
        "goals_unsure": bool(answers.get("goals", {}).get("goals_unsure")),
        "version": plan.version,
        "agreed": plan.status == PlanStatus.AGREED,
        # To the minute: a draft keeps its version number through saves, and two printed
        # copies of one day are told apart by it (the same clock as the plan page shows).
        "updated": plan.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
        "review_date": rep["review_date"],
        "goals": [
            {
                **goal,
                "steps": [{**s, "who": WHO.get(s["who"], s["who"])} for s in goal["steps"]],
                **_progress(progress.get(goal["id"], [])),
            }
            for goal in rep["goals"]
        ],
        "strengths_precautions": [
            _label(*strengths["precautions"], s["code"], term, topic)
            for s in rep["strengths"]
            if s["source"] == "precautions"
        ],
        "strengths_coping": [
            _label(*strengths["coping"], s["code"], term, topic)
            for s in rep["strengths"]
            if s["source"] == "coping"
        ],
        "strengths_notes": rep["strengths_notes"],
        "supports": [  # in the PDF's language, as the strengths are
            _label("supports", "current_supports", s["code"], term, topic) for s in rep["supports"]
        ],
        "supports_notes": rep["supports_notes"],
        "safety_plan": rep["safety_plan"],
        "referral_needs": _labels(
            "supports",
            "referral_needs",
            answers.get("supports", {}).get("referral_needs", []),
            term,
        ),
        "referrals": [
            {
                "name": r.agency.name,
                "caution": " ".join(
                    caution_lines(
                        r.agency,
                        work_topic=topic,
                        work_term=work_term(answers),
                        couple=plan.intake.kind == "couple",
                    )
                ),
                "client_decision": str(
                    REFERRAL_DECISIONS.get(r.client_decision, r.get_client_decision_display())
                    if plan.intake.kind == "couple"
                    else r.get_client_decision_display()
                ),
                "note": r.note,
            }
            for r in plan.referrals.all()
        ],
        "agreement": rep["agreement"],
        "work": None,
        "change": None,
        "harm_reduction": None,
        "strengthen": "",
        "safety": _safety(plan, answers, topic),
        "couple": None,
    }
    if topic and direction not in SILENT_DIRECTIONS:
        context["work"] = {
            "term": term,
            "heading": term_label("Your work", term),
            "direction": _label("work_plans", "work_direction", direction, term),
        }
    if topic and direction in CHANGING:
        # Precautions to strengthen belong to the client whatever they chose.
        context["strengthen"] = answers.get("precautions", {}).get("precautions_to_strengthen", "")
    elif topic:
        context["harm_reduction"] = _harm_reduction(answers, term)
    if topic and direction in CHANGING:
        exit_answers = answers.get("exit_planning", {})
        context["change"] = {
            "stage": _label("exit_planning", "exit_stage", exit_answers.get("exit_stage"), term),
            "barriers": [
                {
                    "label": _label("exit_planning", "exit_barriers", code, term),
                    "help": BARRIER_HELP.get(code, ""),
                }
                for code in exit_answers.get("exit_barriers", [])
            ],
            "goals": exit_answers.get("exit_goals", []),
        }
    if plan.intake.kind == "couple":
        partner = answers.get("partner", {})
        # The relationship section says nothing about work unless "Your work" goes in too: the
        # work topic (with the couple's word for it) and the worker's own account stay out.
        work_in = topic and "work" in options.sections
        topics = [
            code
            for code in partner.get("couple_topics", [])
            if work_in or code != COUPLE_WORK_TOPIC
        ]
        context["couple"] = {
            "structure": _labels(
                "partner", "relationship_structure", partner.get("relationship_structure", []), term
            ),
            "topics": _labels("partner", "couple_topics", topics, term),
            "partner_words": partner.get("partner_concerns", ""),
            "partner_stigma": _labels(
                "partner", "partner_stigma", partner.get("partner_stigma", []), term
            ),
            "partner_support": _labels(
                "partner", "partner_support_needs", partner.get("partner_support_needs", []), term
            ),
            # The worker's account only when the couple chose work as a topic (guideline 4).
            "worker_words": partner.get("worker_description", "") if work_in else "",
        }
    if options == CLINIC_COPY:
        return context
    return _copy_of(context, plan, options, own or work_term(answers), about_work=topic)
