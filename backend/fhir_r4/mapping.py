"""Mappings to FHIR R4 resources, built and validated with fhir.resources.R4B.

Pure functions from loaded objects to resources. The clinician's reflection is never read here.
"""

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.utils.html import escape
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.goal import Goal
from fhir.resources.R4B.patient import Patient
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
CONFIDENTIALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
CONFIDENTIALITY = {
    code: {"system": CONFIDENTIALITY_SYSTEM, "code": code, "display": display}
    for code, display in (("N", "normal"), ("R", "restricted"), ("V", "very restricted"))
}
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


def questionnaire(kind: str, base: str) -> Questionnaire:
    return Questionnaire.model_validate(
        {
            "resourceType": "Questionnaire",
            "id": kind,
            "meta": _meta(),
            "url": f"{base}/Questionnaire/{kind}",
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


def questionnaire_response(intake: Intake, base: str) -> QuestionnaireResponse:
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
        "meta": _meta(),
        "lifecycleStatus": "active" if plan.status == PlanStatus.AGREED else "proposed",
        "achievementStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/goal-achievement",
                    "code": "in-progress",
                    "display": "In Progress",
                }
            ]
        },
        "description": {"text": goal.client_words},  # verbatim, the client's words
        "subject": patient(plan.client_id),
        "expressedBy": patient(plan.client_id),
        "startDate": plan.created_at.date().isoformat(),
    }
    if goal.clinical_restatement:
        data["note"] = [{"text": f"Clinician's restatement: {goal.clinical_restatement}"}]
    if goal.target_date:
        data["target"] = [{"dueDate": goal.target_date.isoformat()}]
    return Goal.model_validate(data)


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
    return CarePlan.model_validate(data)


def document_reference(
    document: PlanDocument,
    pdf: bytes | None,
    replaces: list[PlanDocument],
    superseded: bool = False,
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
        "status": "superseded" if superseded else "current",
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


def patient_resource(client: Any, ehr_id_system: str = "") -> Patient:
    """Alias-based: the name the client chose (never a legal name), and the EHR's id."""
    data: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(client.pk),
        "meta": {"security": [CONFIDENTIALITY["N"]]},
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
    search_types = {"patient": "reference", "_id": "token", "identifier": "token"}
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
                "resource": [
                    {
                        "type": "Questionnaire",
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
