"""Mappings to FHIR R4 resources, built and validated with fhir.resources.R4B.

Pure functions from loaded objects to resources. The clinician's reflection is never read here.
"""

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils.html import escape
from fhir.resources.R4B.binary import Binary
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.goal import Goal
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.provenance import Provenance
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from documents.models import DocStatus, PlanDocument
from forms import FORM_VERSION, STEPS, Field, Step
from forms.describe import applies_to_kind
from forms.django_forms import field_label
from forms.intake import WORK_IS_A_TOPIC
from forms.localize import translations
from forms.spec import AllOf, AnswerHas, AnswerIn, Condition, KindIs, condition_for_kind
from intake.models import Intake
from plans.models import ClientDecision, PlanStatus, StepOwner, TreatmentPlan
from plans.selectors import STRENGTH_FIELDS, SUPPORT_FIELD, choice_label
from referrals.models import ClientDecision as ReferralDecision

CONFIDENTIALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
CONFIDENTIALITY = {
    code: {"system": CONFIDENTIALITY_SYSTEM, "code": code, "display": display}
    for code, display in (("N", "normal"), ("R", "restricted"), ("V", "very restricted"))
}
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SENSITIVITY_CODES = {
    "PSY": "psychiatry information sensitivity",
    "SEX": "sexuality and reproductive health information sensitivity",
    "ETH": "substance abuse information sensitivity",
}
# forms/ sensitivity -> confidentiality. Nothing in a therapy record for this population is
# "normal": routine content is R, and restricted content (work details, the worker's own
# account) is V.
LEVELS = {"routine": "R", "sensitive": "R", "restricted": "V"}
# Where a more specific sensitivity fits: answers to these steps or fields, and these codes.
STEP_SENSITIVITY = {"work_context": "SEX", "precautions": "SEX"}
FIELD_SENSITIVITY = {"worker_description": "SEX", "relationship_structure": "SEX"}
CODE_SENSITIVITY = {
    ("referral_needs", "substance_use"): "ETH",
    ("referral_needs", "sexual_health"): "SEX",
}
# Steps never exported: the clinician's own and the couple's private checks.
PRIVATE_STEPS = {"private_check_a", "private_check_b"}
ITEM_TYPES = {
    "bool": "boolean",
    "text": "text",
    "choice": "choice",
    "multi": "choice",
    "text_list": "string",
}
FIELDS = {f.name: (s, f) for s in STEPS for f in s.fields}
SDC = "http://hl7.org/fhir/StructureDefinition"
ITEM_CONTROL = "http://hl7.org/fhir/questionnaire-item-control"


def _exported(step: Step) -> bool:
    return not step.clinician_only and step.name not in PRIVATE_STEPS


def security_labels(
    answers: dict[str, Any] | None = None, *, floor: str = "R", psy: bool = True
) -> list[dict[str, str]]:
    """Labels from what is inside: the highest forms/ sensitivity among the answered fields
    (at least `floor`), PSY for therapy records, SEX/ETH where such answers are present."""
    level = floor
    codes: set[str] = {"PSY"} if psy else set()
    for step in STEPS:
        given = (answers or {}).get(step.name)
        if not given or not _exported(step):
            continue
        for field in step.fields:
            value = given.get(field.name)
            if value in (None, "", [], False):
                continue
            if LEVELS[field.sensitivity] == "V":
                level = "V"
            if step.name in STEP_SENSITIVITY:
                codes.add(STEP_SENSITIVITY[step.name])
            if field.name in FIELD_SENSITIVITY:
                codes.add(FIELD_SENSITIVITY[field.name])
            for code in value if isinstance(value, list) else [value]:
                if isinstance(code, str) and (field.name, code) in CODE_SENSITIVITY:
                    codes.add(CODE_SENSITIVITY[(field.name, code)])
    return [
        CONFIDENTIALITY[level],
        *(
            {"system": ACT_CODE_SYSTEM, "code": c, "display": SENSITIVITY_CODES[c]}
            for c in sorted(codes)
        ),
    ]


def default_base() -> str:
    """The FHIR base for canonical URLs when no request is at hand (views pass their own)."""
    return settings.FHIR_BASE_URL or f"{settings.PUBLIC_BASE_URL}/fhir"


def _system(field: Field, base: str) -> str:
    return f"{base}/CodeSystem/{field.name}"


# Displays that would say something about the client's work where the client asked for none
# to be written down: the stable code tells systems, the readable text stays neutral.
NEUTRAL_DISPLAYS = {("recording_preference", "no_work_details"): "Some details not written down"}


def _coding(field: Field, code: str, base: str, *, answer: bool = False) -> dict[str, str]:
    label = next((c.label for c in field.choices if c.code == code), code)
    if answer:  # an intake's own resources; the Questionnaire keeps the question's labels
        label = NEUTRAL_DISPLAYS.get((field.name, code), label)
    return {"system": _system(field, base), "code": code, "display": label}


def patient(client_id: Any) -> dict[str, str]:
    return {"reference": f"Patient/{client_id}"}


def _enable_when(condition: Condition, base: str) -> list[dict[str, Any]]:
    """Conditions as enableWhen items that all must hold ("in" becomes "exists and is none of
    the other codes"), so that every condition in forms/ fits enableBehavior "all"."""
    if isinstance(condition, AllOf):
        return [item for c in condition.conditions for item in _enable_when(c, base)]
    if isinstance(condition, KindIs):
        return []  # a separate Questionnaire per kind
    if isinstance(condition, AnswerHas):
        _, field = FIELDS[condition.field]
        return [
            {
                "question": field.name,
                "operator": "=",
                "answerCoding": _coding(field, condition.value, base),
            }
        ]
    _, field = FIELDS[condition.field]  # type: ignore[union-attr]
    if isinstance(condition, AnswerIn):
        others = [c for c in field.codes if c not in condition.values]
        return [
            {"question": field.name, "operator": "exists", "answerBoolean": True},
            *(
                {"question": field.name, "operator": "!=", "answerCoding": _coding(field, c, base)}
                for c in others
            ),
        ]
    return [
        {"question": field.name, "operator": "!=", "answerCoding": _coding(field, c, base)}
        for c in sorted(condition.values)
    ]


def _display(link_id: str, text: str, control: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": link_id, "type": "display", "text": text}
    if control:
        item["extension"] = [
            {
                "url": f"{SDC}/questionnaire-itemControl",
                "valueCodeableConcept": {"coding": [{"system": ITEM_CONTROL, "code": control}]},
            }
        ]
    return item


def _question(field: Field, base: str, kind: str) -> dict[str, Any]:
    # A question with another wording for clients whose work is not a topic is asked in that
    # general wording: it is true for everyone, and a Questionnaire has one text per item. A
    # couple's question is worded for each person (forms/ couple_label).
    item: dict[str, Any] = {
        "linkId": field.name,
        "text": field_label(field, kind=kind, work_topic=not field.general_label),
        "type": ITEM_TYPES[field.kind],
        "required": field.required,
        "repeats": field.kind in ("multi", "text_list"),
    }
    extensions: list[dict[str, Any]] = []
    if field.kind == "text_list":
        if field.min_items:
            extensions.append(
                {"url": f"{SDC}/questionnaire-minOccurs", "valueInteger": field.min_items}
            )
        extensions.append(
            {"url": f"{SDC}/questionnaire-maxOccurs", "valueInteger": field.max_items}
        )
    if field.kind == "bool" and field.required:
        # A confirmation: it must be ticked, not only answered.
        extensions.append(
            {
                "url": f"{SDC}/questionnaire-constraint",
                "extension": [
                    {"url": "key", "valueId": f"{field.name.replace('_', '-')}-confirmed"},
                    {"url": "severity", "valueCode": "error"},
                    {"url": "expression", "valueString": "answer.value = true"},
                    {"url": "human", "valueString": "This needs to be confirmed to go on."},
                ],
            }
        )
    if extensions:
        item["extension"] = extensions
    if field.kind in ("text", "text_list"):
        item["maxLength"] = field.max_length
    if field.choices:
        item["answerOption"] = [
            {
                "valueCoding": _coding(field, c.code, base),
                **(
                    {
                        "extension": [
                            {"url": f"{SDC}/questionnaire-optionExclusive", "valueBoolean": True}
                        ]
                    }
                    if c.exclusive
                    else {}
                ),
            }
            for c in field.choices
        ]
    children = []
    if field.help:
        children.append(_display(f"{field.name}.help", field.help, "help"))
    if field.why or field.who_sees:
        text = " ".join(
            part
            for part in (
                f"Why we ask: {field.why}" if field.why else "",
                f"Who sees this: {field.who_sees}" if field.who_sees else "",
            )
            if part
        )
        children.append(_display(f"{field.name}.why", text))
    if children:
        item["item"] = children
    # Recorded only under some recording preferences, and asked only when its own condition
    # holds (forms/ recorded_when, enabled_when): asked only then.
    enabled = condition_for_kind(field.enabled_when, kind) if field.enabled_when else None
    enable = [
        item
        for condition in (field.recorded_when, enabled)
        if condition is not None
        for item in _enable_when(condition, base)
    ]
    if enable:
        item["enableWhen"] = enable
        item["enableBehavior"] = "all"
    return item


def _intro(step: Step, base: str, kind: str) -> list[dict[str, Any]]:
    if kind == "couple" and step.couple_intro:  # said to both, and true for every couple
        return [_display(f"{step.name}.intro", step.couple_intro)]
    if not step.general_intro or step.general_intro == step.intro:
        return [_display(f"{step.name}.intro", step.intro)]
    focus_topic = condition_for_kind(WORK_IS_A_TOPIC, kind)
    if not isinstance(focus_topic, AnswerIn):
        # A couple's topics are a multi answer that R4 enableWhen cannot test for "does not
        # include": the general wording is true for every couple, so it is the one shown.
        return [_display(f"{step.name}.intro", step.general_intro)]
    topic = _enable_when(focus_topic, base)
    _, focus = FIELDS[focus_topic.field]
    general = [
        {"question": focus.name, "operator": "exists", "answerBoolean": False},
        *(
            {"question": focus.name, "operator": "=", "answerCoding": _coding(focus, c, base)}
            for c in focus.codes
            if c not in focus_topic.values
        ),
    ]
    return [
        {
            **_display(f"{step.name}.intro", step.intro),
            "enableWhen": topic,
            "enableBehavior": "all",
        },
        {
            **_display(f"{step.name}.general_intro", step.general_intro),
            "enableWhen": general,
            "enableBehavior": "any",
        },
    ]


def _group(step: Step, base: str, kind: str) -> dict[str, Any]:
    group: dict[str, Any] = {
        "linkId": step.name,
        "text": step.title,
        "type": "group",
        "item": [
            *_intro(step, base, kind),
            *(_question(f, base, kind) for f in step.fields_for(kind)),
        ],
    }
    condition = condition_for_kind(step.enabled_when, kind) if step.enabled_when else None
    enable = _enable_when(condition, base) if condition else []
    if enable:
        group["enableWhen"] = enable
        group["enableBehavior"] = "all"
    return group


def questionnaire(kind: str, base: str | None = None) -> Questionnaire:
    base = base or default_base()
    return Questionnaire.model_validate(
        {
            "resourceType": "Questionnaire",
            "id": kind,
            "url": f"{base}/Questionnaire/{kind}",
            "version": FORM_VERSION,
            "name": f"Intake{kind.title()}",
            "title": f"Intake ({kind})",
            "status": "active",
            "subjectType": ["Patient"],
            "item": _translated(
                [_group(s, base, kind) for s in STEPS if applies_to_kind(s, kind) and _exported(s)]
            ),
        }
    )


TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"


def _translated(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each item's text (and each answer option's display) with the standard translation
    extension for every other language of the catalogue (DESIGN "Languages")."""

    def extension(text: str) -> dict[str, Any] | None:
        found = translations(text)
        if not found:
            return None
        return {
            "extension": [
                {
                    "url": TRANSLATION,
                    "extension": [
                        {"url": "lang", "valueCode": code},
                        {"url": "content", "valueString": content},
                    ],
                }
                for code, content in found.items()
            ]
        }

    for item in items:
        if isinstance(item.get("text"), str) and (ext := extension(item["text"])):
            item["_text"] = ext
        for option in item.get("answerOption", []):
            coding = option.get("valueCoding", {})
            if isinstance(coding.get("display"), str) and (ext := extension(coding["display"])):
                coding["_display"] = ext
        _translated(item.get("item", []))
    return items


def _answers(field: Field, value: Any, base: str) -> list[dict[str, Any]]:
    """Given answers only: an unticked box is not an answer of "no", and blank text is skipped."""
    values = value if isinstance(value, list) else [value]
    if field.kind == "bool":
        return [{"valueBoolean": True} for v in values if v is True]
    if field.choices:
        return [{"valueCoding": _coding(field, v, base, answer=True)} for v in values if v]
    return [{"valueString": v} for v in values if isinstance(v, str) and v.strip()]


def questionnaire_response(intake: Intake, base: str | None = None) -> QuestionnaireResponse:
    base = base or default_base()
    groups = []
    for step in STEPS:
        answers = intake.answers.get(step.name)
        if not _exported(step) or answers is None:
            continue  # never asked; skipped fields inside an answered step are left out
        items = [
            {"linkId": f.name, "answer": given}
            for f in step.fields
            if f.name in answers and (given := _answers(f, answers[f.name], base))
        ]
        groups.append({"linkId": step.name, **({"item": items} if items else {})})
    return QuestionnaireResponse.model_validate(
        {
            "resourceType": "QuestionnaireResponse",
            "id": str(intake.pk),
            "meta": {"security": security_labels(intake.answers)},
            "questionnaire": f"{base}/Questionnaire/{intake.kind}|{intake.form_version}",
            "status": "completed" if intake.status == "completed" else "in-progress",
            "subject": patient(intake.client_id),
            "authored": intake.updated_at.isoformat(),
            "item": groups,
        }
    )


def goal(goal: Any, plan: TreatmentPlan) -> Goal:
    data: dict[str, Any] = {
        "resourceType": "Goal",
        "id": str(goal.pk),
        "meta": {"security": security_labels()},
        "lifecycleStatus": "active" if plan.status == PlanStatus.AGREED else "proposed",
        "achievementStatus": goal_achievement(goal),
        "description": {"text": goal.client_words},  # verbatim, the client's words
        "subject": patient(plan.client_id),
        "expressedBy": patient(plan.client_id),
        "startDate": plan.created_at.date().isoformat(),
    }
    if goal.clinical_restatement:
        data["note"] = [{"text": f"Clinician's restatement: {goal.clinical_restatement}"}]
    data["note"] = data.get("note", []) + goal_review_notes(goal)
    if goal.target_date:
        data["target"] = [{"dueDate": goal.target_date.isoformat()}]
    return Goal.model_validate(data)


PERFORMERS: dict[str, str] = {
    StepOwner.CLIENT: "The client",
    StepOwner.CLINICIAN: "The clinician",
    StepOwner.PEER: "A peer",
    StepOwner.OTHER_SUPPORT: "Someone else who supports the client",
}
REFERRAL_STATUS: dict[str, tuple[str, str]] = {
    ReferralDecision.ACCEPTED: ("active", "The client decided to use this service."),
    ReferralDecision.DECLINED: ("revoked", "The client decided not to use this service."),
    ReferralDecision.UNDECIDED: ("draft", "The client has not decided yet."),
}


def _performer(plan: TreatmentPlan, who: str) -> dict[str, str]:
    if who == StepOwner.CLIENT:
        return {**patient(plan.client_id), "display": PERFORMERS[StepOwner.CLIENT]}
    return {"display": PERFORMERS.get(who, who)}


def _referral(plan: TreatmentPlan, referral: Any, index: int) -> dict[str, Any]:
    status, decision = REFERRAL_STATUS.get(
        referral.client_decision, REFERRAL_STATUS[ReferralDecision.UNDECIDED]
    )
    services = ", ".join(referral.agency.services) or "referral"
    notes = [{"text": decision}]
    if referral.note:
        notes.append({"text": referral.note})
    return {
        "resourceType": "ServiceRequest",
        "id": f"referral-{index}",
        "status": status,
        "intent": "plan" if status == "active" else "proposal",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "3457005",
                        "display": "Patient referral",
                    }
                ]
            }
        ],
        "code": {"text": services},
        "subject": patient(plan.client_id),
        "performer": [{"display": referral.agency.name}],
        "note": notes,
    }


def _plan_notes(plan: TreatmentPlan) -> list[dict[str, str]]:
    notes = []
    strengths = [
        choice_label(STRENGTH_FIELDS[s["source"]], s["code"])
        for s in plan.strengths
        if s.get("source") in STRENGTH_FIELDS
    ]
    if strengths or plan.strengths_notes:
        text = "; ".join(strengths)
        if plan.strengths_notes:
            text = f"{text}. {plan.strengths_notes}" if text else plan.strengths_notes
        notes.append({"text": f"Strengths: {text}"})
    supports = [choice_label(SUPPORT_FIELD, c) for c in plan.supports]
    if supports or plan.supports_notes:
        text = "; ".join(supports)
        if plan.supports_notes:
            text = f"{text}. {plan.supports_notes}" if text else plan.supports_notes
        notes.append({"text": f"Supports: {text}"})
    if plan.safety_plan:
        notes.append({"text": f"Safety plan, in the client's words: {plan.safety_plan}"})
    if plan.client_decision == ClientDecision.AGREES:
        when = f" on {plan.agreed_at.date().isoformat()}" if plan.agreed_at else ""
        notes.append({"text": f"The client agreed to this plan{when}."})
    elif plan.client_decision == ClientDecision.WANTS_CHANGES:
        notes.append({"text": "The client would like changes to this plan."})
    if plan.client_comment:
        notes.append({"text": f"The client's comment: {plan.client_comment}"})
    return notes


GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
ACHIEVEMENT_DISPLAY = {
    "in-progress": "In Progress",
    "improving": "Improving",
    "worsening": "Worsening",
    "no-change": "No Change",
    "achieved": "Achieved",
    "no-progress": "No Progress",
}


def _ratings(goal: Any) -> list[Any]:
    """The goal's ratings at reviews, newest first."""
    return list(goal.progress.select_related("review").order_by("-review__created_at"))


def goal_achievement(goal: Any) -> dict[str, Any]:
    """Goal.achievementStatus from the client's latest rating (0 not started ... 4 done),
    compared with the one before it."""
    ratings = _ratings(goal)
    code = "in-progress"
    if ratings:
        latest = ratings[0].progress
        previous = ratings[1].progress if len(ratings) > 1 else None
        if latest == 4:
            code = "achieved"
        elif previous is not None and latest != previous:
            code = "improving" if latest > previous else "worsening"
        elif previous is not None:
            code = "no-change"
        elif latest == 0:
            code = "no-progress"
    coding = {"system": GOAL_ACHIEVEMENT, "code": code, "display": ACHIEVEMENT_DISPLAY[code]}
    text = f"The client's rating: {ratings[0].progress} of 4" if ratings else None
    return {"coding": [coding], **({"text": text} if text else {})}


def goal_review_notes(goal: Any) -> list[dict[str, Any]]:
    return [
        {
            "time": r.review.created_at.isoformat(),
            "text": f"Review: the client rated this {r.progress} of 4."
            + (f" In their words: {r.client_note}" if r.client_note else ""),
        }
        for r in reversed(_ratings(goal))
    ]


# The fixed codes of every CarePlan and DocumentReference: what a token search on category or
# type matches (fhir_r4.views.TOKEN_SEARCH), and what the resources carry.
CARE_PLAN_CATEGORIES = (
    {"system": "http://hl7.org/fhir/us/core/CodeSystem/careplan-category", "code": "assess-plan"},
    {"system": "http://snomed.info/sct", "code": "718347000", "display": "Mental health care plan"},
)
DOCUMENT_TYPE = {"system": "http://loinc.org", "code": "18776-5", "display": "Plan of care note"}
DOCUMENT_CATEGORY = {
    "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
    "code": "clinical-note",
    "display": "Clinical Note",
}

SIGNATURE_TYPE = {
    "system": "urn:iso-astm:E1762-95:2013",
    "code": "1.2.840.10065.1.12.1.7",
    "display": "Consent Signature",
}


def agreement_provenance(agreement: Any, plan: TreatmentPlan) -> Provenance:
    """The client's decision on one version of the plan as a Provenance: the version and hash
    of the content they read, and the names they typed as signatures."""
    when = agreement.created_at.isoformat()
    signatures = []
    if agreement.client_signed_name:
        signatures.append(
            {
                "type": [SIGNATURE_TYPE],
                "when": when,
                "who": {**patient(plan.client_id), "display": agreement.client_signed_name},
                "sigFormat": "text/plain",
                "data": base64.b64encode(agreement.client_signed_name.encode()).decode(),
            }
        )
    agents: list[dict[str, Any]] = [
        {
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                        "code": "author",
                        "display": "Author",
                    }
                ]
            },
            "who": patient(plan.client_id),
        }
    ]
    if agreement.recorded_by_id:
        clinician = practitioner(agreement.recorded_by)
        agents.append(
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                            "code": "enterer",
                            "display": "Enterer",
                        }
                    ]
                },
                "who": clinician,
            }
        )
        if agreement.clinician_signed_name:
            signatures.append(
                {
                    "type": [SIGNATURE_TYPE],
                    "when": when,
                    "who": {**clinician, "display": agreement.clinician_signed_name},
                    "sigFormat": "text/plain",
                    "data": base64.b64encode(agreement.clinician_signed_name.encode()).decode(),
                }
            )
    data: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": "agreement",
        "meta": {"security": security_labels()},
        # The plan as it is read here, which is the version agreed while this is contained in
        # it (this server has no version history to point into).
        "target": [{"reference": f"CarePlan/{plan.pk}", "display": f"Version {agreement.version}"}],
        "recorded": when,
        "activity": {
            "coding": [
                {
                    "system": f"{default_base()}/CodeSystem/plan-agreement",
                    "code": agreement.client_decision,
                    "display": agreement.get_client_decision_display(),
                }
            ]
        },
        "agent": agents,
        "entity": [
            {
                "role": "source",
                "what": {
                    "identifier": {
                        "system": f"{default_base()}/plan-content-sha256",
                        "value": agreement.content_sha256,
                    },
                    "display": f"Care plan version {agreement.version}, as shown",
                },
            }
        ],
    }
    if signatures:
        data["signature"] = signatures
    return Provenance.model_validate(data)


def care_plan(plan: TreatmentPlan) -> CarePlan:
    """US Core-shaped: category assess-plan, narrative, activities tied to their goals."""
    goals = list(plan.goals.all())
    rows = "".join(f"<li>{escape(g.client_words)}</li>" for g in goals)
    activities: list[dict[str, Any]] = [
        {
            "detail": {
                "kind": "Task",
                "status": "not-started",
                "description": step.description,
                "goal": [{"reference": f"Goal/{g.pk}"}],
                "performer": [_performer(plan, step.who)],
                **({"scheduledString": step.frequency} if step.frequency else {}),
            }
        }
        for g in goals
        for step in g.steps.all()
    ]
    referrals = [_referral(plan, r, i) for i, r in enumerate(plan.referrals.all(), start=1)]
    activities += [{"reference": {"reference": f"#{r['id']}"}} for r in referrals]
    data: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(plan.pk),
        "meta": {"security": security_labels(plan.intake.answers)},
        "status": "active" if plan.status == PlanStatus.AGREED else "draft",
        "intent": "plan",
        "category": [{"coding": [coding]} for coding in CARE_PLAN_CATEGORIES],
        "title": "Care plan",
        "text": {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>Care plan, version '
            f"{plan.version}. Goals in the client's words:</p><ul>{rows}</ul></div>",
        },
        "subject": patient(plan.client_id),
        "period": {
            "start": plan.created_at.isoformat(),
            **({"end": plan.review_date.isoformat()} if plan.review_date else {}),
        },
        "created": plan.created_at.isoformat(),
        "contributor": [patient(plan.client_id)],
        "goal": [{"reference": f"Goal/{g.pk}"} for g in goals],
    }
    if referrals:
        data["contained"] = referrals
    if plan.created_by_id:
        data["author"] = practitioner(plan.created_by)
        data["contributor"].append(practitioner(plan.created_by))
    if activities:
        data["activity"] = activities
    notes = _plan_notes(plan)
    if notes:
        data["note"] = notes
    agreement = (
        plan.agreements.filter(version=plan.version)
        .select_related("recorded_by")
        .order_by("-created_at")
        .first()
    )
    if agreement is not None:
        # The client's decision, with the signatures, on exactly this version and content.
        data.setdefault("contained", []).append(
            agreement_provenance(agreement, plan).model_dump(exclude_none=True)
        )
        data["supportingInfo"] = [{"reference": "#agreement", "display": "The client's decision"}]
    return CarePlan.model_validate(data)


def copy_description(document: PlanDocument) -> str:
    """Which copy a document is, for a system that keeps several (the clinic's complete copy,
    the client's with the sections they chose, discreet, protected)."""
    if document.copy == "clinic":
        words = "The clinic's copy: complete"
    else:
        sections = ", ".join(document.sections) or "none"
        words = f"The client's copy, with the sections they chose: {sections}"
    if document.discreet:
        words += (
            "; discreet: a neutral title and headings, no name, and nothing that names the work"
            " (a goal, step or note that does is left out; the clinic's copy has every word)"
        )
    if document.protected:
        words += "; opens only with a passphrase"
    return words + "."


def practitioner(user: Any) -> dict[str, Any]:
    """A clinician, named: this server has no Practitioner resources to point to (and a user's
    row number is nobody's business), so the reference is its type and the name only."""
    return {"type": "Practitioner", "display": user.get_full_name() or user.username}


def document_reference(
    document: PlanDocument,
    pdf: bytes | None,
    replaces: list[PlanDocument],
    superseded: bool = False,
    base: str | None = None,
) -> DocumentReference:
    attachment: dict[str, Any] = {
        "contentType": "application/pdf",
        "title": document.filename,
        # Absolute, and fetchable with the same token that read this (a SMART backend client's
        # too): the PDF as a Binary on this FHIR server.
        "url": f"{base or default_base()}/Binary/{document.pk}",
    }
    if pdf is not None:
        attachment["size"] = len(pdf)
        attachment["hash"] = base64.b64encode(hashlib.sha1(pdf).digest()).decode()  # noqa: S324 - FHIR Attachment.hash is SHA-1
    data: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": str(document.pk),
        "meta": {"security": security_labels(document.plan.intake.answers)},
        # A document that failed (or whose stored file was lost) is no document at all.
        "status": (
            "entered-in-error"
            if document.status == DocStatus.FAILED
            else "superseded"
            if superseded
            else "current"
        ),
        # What the document holds, fixed when it was asked for: an agreed plan's copy is final
        # from the start (queued and rendering too: its content will not change, and an EHR that
        # keeps the first answer keeps the right one); a draft's PDF says "draft" on it.
        "docStatus": (
            "final"
            if document.status != DocStatus.FAILED and document.plan_status == PlanStatus.AGREED
            else "preliminary"
        ),
        "description": copy_description(document),
        "type": {"coding": [DOCUMENT_TYPE]},
        "category": [{"coding": [DOCUMENT_CATEGORY]}],
        "subject": patient(document.plan.client_id),
        "date": document.created_at.isoformat(),
        "content": [{"attachment": attachment}],
        "context": {"related": [{"reference": f"CarePlan/{document.plan_id}"}]},
    }
    if replaces:
        data["relatesTo"] = [
            {"code": "replaces", "target": {"reference": f"DocumentReference/{d.pk}"}}
            for d in replaces
        ]
    return DocumentReference.model_validate(data)


def binary(document: PlanDocument, pdf: bytes) -> Binary:
    """The PDF as a FHIR Binary, for a client that asks for FHIR JSON: labelled as its
    DocumentReference is (it holds the same words), whose access rules it follows
    (securityContext)."""
    return Binary.model_validate(
        {
            "resourceType": "Binary",
            "id": str(document.pk),
            "meta": {"security": security_labels(document.plan.intake.answers)},
            "securityContext": {"reference": f"DocumentReference/{document.pk}"},
            "contentType": "application/pdf",
            "data": base64.b64encode(pdf).decode(),
        }
    )


def consent(intake: Intake, base: str | None = None) -> Consent:
    base = base or default_base()
    answers = intake.answers.get("consent", {})
    preference = answers.get("recording_preference")
    field = FIELDS["recording_preference"][1]
    provision: dict[str, Any] = {
        "type": "permit" if answers.get("confidentiality_explained") else "deny"
    }
    if preference:
        provision["code"] = [{"coding": [_coding(field, preference, base, answer=True)]}]
        if preference == "no_work_details":
            # DESIGN: no FHIR resource for such an intake mentions the work.
            provision["provision"] = [
                {"type": "deny", "code": [{"text": "details the client chose not to record"}]}
            ]
        elif preference == "minimal":
            provision["provision"] = [
                {"type": "deny", "code": [{"text": "details the plan does not need"}]}
            ]
    return Consent.model_validate(
        {
            "resourceType": "Consent",
            "id": str(intake.pk),
            "meta": {"security": security_labels(psy=False)},
            "status": "active" if answers.get("confidentiality_explained") else "proposed",
            "scope": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "patient-privacy",
                        "display": "Privacy Consent",
                    }
                ]
            },
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://loinc.org",
                            "code": "59284-0",
                            "display": "Patient Consent",
                        }
                    ]
                }
            ],
            "patient": patient(intake.client_id),
            "dateTime": intake.created_at.isoformat(),
            "policyRule": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
                ]
            },
            "provision": provision,
        }
    )


def patient_resource(client: Any, ehr_id_system: str = "") -> Patient:
    """Alias-based: the name the client chose (never a legal name), and the EHR's id."""
    data: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(client.pk),
        # Being on this service's list is itself sensitive.
        "meta": {"security": security_labels(psy=False)},
        "active": True,
        "name": [{"use": "usual", "text": client.display_name}],
    }
    if client.external_id:
        identifier: dict[str, Any] = {
            "use": "usual",
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "code": "MR",
                        "display": "Medical record number",
                    }
                ]
            },
            "value": client.external_id,
        }
        if ehr_id_system:
            identifier["system"] = ehr_id_system
        data["identifier"] = [identifier]
    if client.pronouns:
        data["extension"] = [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/individual-pronouns",
                "extension": [{"url": "value", "valueCodeableConcept": {"text": client.pronouns}}],
            }
        ]
    return Patient.model_validate(data)


def as_json(resource: Any, last_updated: datetime) -> dict[str, Any]:
    """The resource as JSON with meta.lastUpdated and a versionId that changes whenever the
    content or the records it is made of change (a digest of both)."""
    body: dict[str, Any] = json.loads(resource.model_dump_json(exclude_none=True))
    meta = body.setdefault("meta", {})
    meta.pop("versionId", None)
    meta.pop("lastUpdated", None)
    content = json.dumps([body, last_updated.isoformat()], sort_keys=True)
    digest = hashlib.sha256(content.encode()).hexdigest()
    meta["versionId"] = digest[:16]
    meta["lastUpdated"] = last_updated.isoformat()
    return body


def form_updated() -> datetime:
    """When the form definition last changed, from FORM_VERSION ("YYYY-MM-n")."""
    year, month = (int(part) for part in FORM_VERSION.split("-")[:2])
    return datetime(year, month, 1, tzinfo=UTC)


def capability_statement(
    *, base: str, token_url: str, resources: dict[str, list[str]]
) -> dict[str, Any]:
    search_types = {
        "patient": "reference",
        "_id": "token",
        "identifier": "token",
        **{name: "token" for name in ("status", "category", "type", "lifecycle-status")},
    }
    statement: dict[str, Any] = {
        "resourceType": "CapabilityStatement",
        "id": "care-plans",
        "status": "active",
        "date": form_updated().date().isoformat(),
        "kind": "instance",
        "software": {"name": "Intake and care plans", "version": FORM_VERSION},
        "implementation": {"description": "Intake and care plans FHIR R4 server", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/"
                            "oauth-uris",
                            "extension": [{"url": "token", "valueUri": token_url}],
                        }
                    ],
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": "SMART Backend Services (client_credentials with a signed "
                    "JWT assertion), or a bearer API token of a clinic member.",
                },
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    },
                    {
                        "name": "patient-export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
                        "patient-export",
                    },
                ],
                "resource": [
                    {
                        "type": "Questionnaire",
                        "interaction": [{"code": "read"}],
                    },
                    {
                        # A ready DocumentReference's PDF (its attachment.url).
                        "type": "Binary",
                        "interaction": [{"code": "read"}],
                    },
                    *(
                        {
                            "type": name,
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
                            "versioning": "versioned",
                            "readHistory": False,
                            "searchParam": [
                                *({"name": p, "type": search_types[p]} for p in params),
                                {"name": "_lastUpdated", "type": "date"},
                            ],
                        }
                        for name, params in resources.items()
                    ),
                ],
            }
        ],
    }
    CapabilityStatement.model_validate(statement)
    return statement
