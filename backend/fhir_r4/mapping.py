"""Mappings to FHIR R4 resources, built and validated with fhir.resources.R4B.

Pure functions from loaded objects to resources. The clinician's reflection is never read here.
"""

import base64
import hashlib
from typing import Any

from django.utils.html import escape
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.goal import Goal
from fhir.resources.R4B.provenance import Provenance
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from documents.models import DocStatus, PlanDocument
from forms import FORM_VERSION, STEPS, Field, Step
from forms.describe import applies_to_kind
from forms.spec import AllOf, AnswerIn, Condition, KindIs
from intake.models import Intake
from plans.models import PlanStatus, TreatmentPlan

BASE = "urn:care-plans"  # canonical base for this service's own code systems
SECURITY = [
    {
        "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
        "code": "R",
        "display": "restricted",
    },
    {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "code": "PSY",
        "display": "psychiatry information sensitivity",
    },
]
ITEM_TYPES = {
    "bool": "boolean",
    "text": "text",
    "choice": "choice",
    "multi": "choice",
    "text_list": "string",
}
FIELDS = {f.name: (s, f) for s in STEPS for f in s.fields}


def _meta() -> dict[str, Any]:
    return {"security": SECURITY}


def _system(field: Field) -> str:
    return f"{BASE}/CodeSystem/{field.name}"


def _coding(field: Field, code: str) -> dict[str, str]:
    label = next((c.label for c in field.choices if c.code == code), code)
    return {"system": _system(field), "code": code, "display": label}


def patient(client_id: Any) -> dict[str, str]:
    return {"reference": f"Patient/{client_id}"}


def _enable_when(condition: Condition) -> list[dict[str, Any]]:
    """Conditions as enableWhen items that all must hold ("in" becomes "exists and is none of
    the other codes"), so that every condition in forms/ fits enableBehavior "all"."""
    if isinstance(condition, AllOf):
        return [item for c in condition.conditions for item in _enable_when(c)]
    if isinstance(condition, KindIs):
        return []  # a separate Questionnaire per kind
    _, field = FIELDS[condition.field]
    if isinstance(condition, AnswerIn):
        others = [c for c in field.codes if c not in condition.values]
        return [
            {"question": field.name, "operator": "exists", "answerBoolean": True},
            *(
                {"question": field.name, "operator": "!=", "answerCoding": _coding(field, c)}
                for c in others
            ),
        ]
    return [
        {"question": field.name, "operator": "!=", "answerCoding": _coding(field, c)}
        for c in sorted(condition.values)
    ]


def _question(field: Field) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": field.name,
        "text": field.label,
        "type": ITEM_TYPES[field.kind],
        "required": field.required,
        "repeats": field.kind in ("multi", "text_list"),
    }
    if field.kind in ("text", "text_list"):
        item["maxLength"] = field.max_length
    if field.choices:
        item["answerOption"] = [{"valueCoding": _coding(field, c.code)} for c in field.choices]
    if field.why:
        item["item"] = [
            {
                "linkId": f"{field.name}.why",
                "type": "display",
                "text": f"Why we ask: {field.why} Who sees this: {field.who_sees}",
            }
        ]
    return item


def _group(step: Step) -> dict[str, Any]:
    group: dict[str, Any] = {
        "linkId": step.name,
        "text": step.title,
        "type": "group",
        "item": [_question(f) for f in step.fields],
    }
    enable = _enable_when(step.enabled_when) if step.enabled_when else []
    if enable:
        group["enableWhen"] = enable
        group["enableBehavior"] = "all"
    return group


def questionnaire(kind: str) -> Questionnaire:
    return Questionnaire.model_validate(
        {
            "resourceType": "Questionnaire",
            "id": kind,
            "meta": _meta(),
            "url": f"{BASE}/Questionnaire/{kind}",
            "version": FORM_VERSION,
            "name": f"Intake{kind.title()}",
            "title": f"Intake ({kind})",
            "status": "active",
            "subjectType": ["Patient"],
            "item": [_group(s) for s in STEPS if applies_to_kind(s, kind) and not s.clinician_only],
        }
    )


def _answers(field: Field, value: Any) -> list[dict[str, Any]]:
    values = value if isinstance(value, list) else [value]
    if field.kind == "bool":
        return [{"valueBoolean": bool(v)} for v in values]
    if field.choices:
        return [{"valueCoding": _coding(field, v)} for v in values]
    return [{"valueString": v} for v in values]


def questionnaire_response(intake: Intake) -> QuestionnaireResponse:
    groups = []
    for step in STEPS:
        answers = intake.answers.get(step.name)
        if step.clinician_only or answers is None:
            continue  # never asked; skipped fields inside an answered step are left out
        items = [
            {"linkId": f.name, "answer": _answers(f, answers[f.name])}
            for f in step.fields
            if f.name in answers
        ]
        groups.append({"linkId": step.name, **({"item": items} if items else {})})
    return QuestionnaireResponse.model_validate(
        {
            "resourceType": "QuestionnaireResponse",
            "id": str(intake.pk),
            "meta": _meta(),
            "questionnaire": f"{BASE}/Questionnaire/{intake.kind}|{intake.form_version}",
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
        "meta": _meta(),
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
        clinician = {"reference": f"Practitioner/{agreement.recorded_by_id}"}
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
        "meta": _meta(),
        "target": [{"reference": f"CarePlan/{plan.pk}/_history/{agreement.version}"}],
        "recorded": when,
        "activity": {
            "coding": [
                {
                    "system": f"{BASE}/CodeSystem/plan-agreement",
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
                        "system": f"{BASE}/plan-content-sha256",
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
    goals = list(plan.goals.all())
    rows = "".join(f"<li>{escape(g.client_words)}</li>" for g in goals)
    activities = [
        {"detail": {"status": "not-started", "description": step.description, "kind": "Task"}}
        for g in goals
        for step in g.steps.all()
    ]
    data: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(plan.pk),
        "meta": _meta(),
        "status": "active" if plan.status == PlanStatus.AGREED else "draft",
        "intent": "plan",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "718347000",
                        "display": "Mental health care plan",
                    }
                ]
            }
        ],
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
    if plan.created_by_id:
        data["author"] = {"reference": f"Practitioner/{plan.created_by_id}"}
        data["contributor"].append({"reference": f"Practitioner/{plan.created_by_id}"})
    if activities:
        data["activity"] = activities
    agreement = plan.agreements.filter(version=plan.version).order_by("-created_at").first()
    if agreement is not None:
        # The client's decision, with the signatures, on exactly this version and content.
        data["contained"] = [agreement_provenance(agreement, plan).model_dump(exclude_none=True)]
        data["supportingInfo"] = [{"reference": "#agreement", "display": "The client's decision"}]
    return CarePlan.model_validate(data)


def document_reference(
    document: PlanDocument, pdf: bytes | None, replaces: list[PlanDocument]
) -> DocumentReference:
    attachment: dict[str, Any] = {
        "contentType": "application/pdf",
        "title": "care-plan.pdf",
        "url": f"/api/v1/documents/{document.pk}/pdf",
    }
    if pdf is not None:
        attachment["size"] = len(pdf)
        attachment["hash"] = base64.b64encode(hashlib.sha1(pdf).digest()).decode()  # noqa: S324 - FHIR Attachment.hash is SHA-1
    data: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": str(document.pk),
        "meta": _meta(),
        "status": "current",
        "docStatus": "final" if document.status == DocStatus.READY else "preliminary",
        "type": {
            "coding": [
                {"system": "http://loinc.org", "code": "18776-5", "display": "Plan of care note"}
            ]
        },
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


def consent(intake: Intake) -> Consent:
    answers = intake.answers.get("consent", {})
    preference = answers.get("recording_preference")
    field = FIELDS["recording_preference"][1]
    provision: dict[str, Any] = {
        "type": "permit" if answers.get("confidentiality_explained") else "deny"
    }
    if preference:
        provision["code"] = [{"coding": [_coding(field, preference)]}]
        if preference == "no_work_details":
            provision["provision"] = [{"type": "deny", "code": [{"text": "work details"}]}]
        elif preference == "minimal":
            provision["provision"] = [
                {"type": "deny", "code": [{"text": "details the plan does not need"}]}
            ]
    return Consent.model_validate(
        {
            "resourceType": "Consent",
            "id": str(intake.pk),
            "meta": _meta(),
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
