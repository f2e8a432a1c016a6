"""Every success response is what the OpenAPI schema says it is, so a generated client is typed
and stays right. A realistic flow is walked with the API test client and each real response is
checked twice: by schemathesis's own conformance check (types, required keys, nullability, the
declared response headers), and by a strict walk that finds any key the schema does not declare,
so a field added to a representation without being declared fails here."""

import json
import uuid
from typing import Any

import pytest
import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from schemathesis.core.transport import Response as SchemathesisResponse
from schemathesis.specs.openapi.checks import (
    response_headers_conformance,
    response_schema_conformance,
)

from forms import STEPS_BY_NAME
from intake.services import intake_start, intake_submit_step
from referrals.models import ReferralAgency

pytestmark = pytest.mark.django_db

# The operations whose success responses used to be free-form objects (issue 18): each must be
# checked against a real response below.
TYPED_OPERATIONS = {
    "POST /api/v1/exports/",
    "GET /api/v1/exports/{id}/",
    "GET /api/v1/forms/{kind}/",
    "GET /api/v1/intakes/{id}/private-checks/",
    "POST /api/v1/language-check/",
    "POST /api/v1/language-check/dismissals/",
    "GET /api/v1/plans/{id}/",
    "PATCH /api/v1/plans/{id}/",
    "GET /api/v1/plans/{id}/reviews/",
    "POST /api/v1/plans/{id}/reviews/",
    "GET /api/v1/plans/{id}/referral-suggestions",
    "GET /fhir/{resource_type}",
    "GET /fhir/{resource_type}/{id}",
    "GET /fhir/Questionnaire/{id}",
}
# Model objects and list pages whose every field is in every response (a field optional in a
# request included): the schema says they are required, and a real response proves it.
ALWAYS_COMPLETE_OPERATIONS = {
    "POST /api/v1/clients/",
    "GET /api/v1/clients/",
    "GET /api/v1/referral-agencies/",
    "GET /api/v1/audit-events/",
    "GET /api/v1/documents/",
}


def _raw_schema() -> dict:
    # Through JSON, as an integrator receives it.
    return json.loads(
        json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str)
    )


@pytest.fixture(scope="module")
def raw_schema() -> dict:
    return _raw_schema()


# The strict walk: every key of a response must be a declared property (recursively).


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def undeclared(value: Any, schema: dict, components: dict, where: str = "$") -> list[str]:
    """The paths of keys in `value` that `schema` does not declare. An object's undeclared keys
    are allowed only where the schema says so (additionalProperties, e.g. a FHIR resource)."""
    schema = _resolve(schema, components)
    if value is None:
        return []
    if "allOf" in schema:
        merged: dict[str, Any] = {"properties": {}}
        for part in schema["allOf"]:
            part = _resolve(part, components)
            merged["properties"].update(part.get("properties", {}))
            for key in ("type", "items", "additionalProperties"):
                if key in part:
                    merged[key] = part[key]
        return undeclared(value, merged, components, where)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            found = [undeclared(value, option, components, where) for option in schema[key]]
            return min(found, key=len)
    problems: list[str] = []
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", False)
        for name, item in value.items():
            if name in properties:
                problems += undeclared(item, properties[name], components, f"{where}.{name}")
            elif isinstance(extra, dict) and extra:
                problems += undeclared(item, extra, components, f"{where}.{name}")
            elif extra is False:
                problems.append(f"{where}.{name}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            problems += undeclared(item, schema.get("items", {}), components, f"{where}[{n}]")
    return problems


class Checker:
    """Checks real responses against the schema and remembers which operations it checked."""

    def __init__(self, raw: dict) -> None:
        self.raw = raw
        self.schema = schemathesis.openapi.from_dict(raw)
        self.checked: set[str] = set()

    def __call__(self, response: Any, method: str, path: str, **path_parameters: str) -> Any:
        label = f"{method} {path}"
        if response.status_code >= 300:  # only the documented errors
            assert response.status_code in (400, 404), (label, response.status_code)
        operation = self.schema.find_operation_by_label(label)
        assert operation is not None, label
        case = operation.Case(path_parameters=path_parameters)
        request = requests.Request(method, f"http://testserver{path}").prepare()
        wrapped = SchemathesisResponse(
            status_code=response.status_code,
            headers={name: [value] for name, value in response.headers.items()},
            content=response.content,
            request=request,
            elapsed=0.0,
            verify=False,
        )
        # (a) schemathesis's own checks: the body against the declared schema (OpenAPI 3.0
        # nullable understood), and the declared response headers (ETag, Location).
        case.validate_response(
            wrapped, checks=[response_schema_conformance, response_headers_conformance]
        )
        # (b) nothing in the body that the schema does not declare.
        declared = self.raw["paths"][path][method.lower()]["responses"][str(response.status_code)]
        (media_type,) = declared["content"]
        body = json.loads(response.content)
        components = self.raw["components"]["schemas"]
        assert undeclared(body, declared["content"][media_type]["schema"], components) == [], label
        if response.status_code < 300:
            self.checked.add(label)
        return body


@pytest.fixture
def check(raw_schema) -> Checker:
    return Checker(raw_schema)


def test_the_strict_walk_finds_an_undeclared_key(raw_schema) -> None:
    components = raw_schema["components"]["schemas"]
    plan = {"goals": [{"steps": [{"description": "x", "surprise": 1}]}], "agreement": None}
    assert undeclared(plan, {"$ref": "#/components/schemas/Plan"}, components) == [
        "$.goals[0].steps[0].surprise"
    ]
    bundle = {"entry": [{"resource": {"resourceType": "Goal", "anything": {"a": 1}}}]}
    assert undeclared(bundle, {"$ref": "#/components/schemas/FhirBundle"}, components) == []
    condition = {"all": [{"field": "about.work_focus", "is": "no"}]}
    assert undeclared(condition, {"$ref": "#/components/schemas/FormCondition"}, components) == [
        "$.all[0].is"
    ]


def test_no_success_response_is_a_free_form_object(raw_schema) -> None:
    free_form = []
    for path, operations in raw_schema["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if not code.startswith("2"):
                    continue
                for media_type, content in (response.get("content") or {}).items():
                    schema = content.get("schema", {})
                    if schema == {} or (
                        schema.get("type") == "object"
                        and "properties" not in schema
                        and "$ref" not in schema
                    ):
                        free_form.append((method.upper(), path, code, media_type))
    assert free_form == []


def test_fields_in_every_response_are_required_in_the_schema(raw_schema) -> None:
    """A generated client types these as always present (not Optional/Unset); the walk below
    proves each is in a real response."""
    schemas = raw_schema["components"]["schemas"]
    for name in ("Client", "Agency", "AuditEvent", "Export"):
        assert schemas[name]["required"] == list(schemas[name]["properties"]), name
    pages = [name for name in schemas if name.startswith("Paginated")]
    assert len(pages) >= 5
    for name in pages:
        assert set(schemas[name]["required"]) == {"next", "previous", "results"}, name
    # A request may still leave the optional ones out.
    assert schemas["ClientRequest"]["required"] == ["display_name"]


def test_security_schemes_say_what_is_accepted(raw_schema) -> None:
    schemes = raw_schema["components"]["securitySchemes"]
    assert schemes["verifiedSession"]["in"] == "cookie"
    assert schemes["smartBackendServices"]["scheme"] == "bearer"
    fhir = raw_schema["paths"]["/fhir/{resource_type}/{id}"]["get"]["security"]
    assert {"smartBackendServices": []} in fhir
    plans = raw_schema["paths"]["/api/v1/plans/{id}/"]["get"]["security"]
    assert {"smartBackendServices": []} not in plans
    assert {"verifiedSession": []} in plans


def test_every_response_matches_its_schema(
    check,
    alice,
    admin_ann,
    alices_client,
    persona_plan,
    run_inline,
    django_capture_on_commit_callbacks,
) -> None:
    api = alice.api
    # A plan drafted from an intake that asked for legal help, with a directory to suggest from.
    plan = persona_plan("leaving")
    agency = ReferralAgency.objects.create(
        clinic=alice.clinic, name="Harbour Legal", services=["legal"], affirming_commitment=True
    )
    ReferralAgency.objects.create(clinic=alice.clinic, name="Unchecked Legal", services=["legal"])
    base = f"/api/v1/plans/{plan.pk}/"

    read = api.get(base)
    check(read, "GET", "/api/v1/plans/{id}/", id=str(plan.pk))
    goal = read.json()["goals"][0]
    body = {
        "goals": [
            {
                "id": goal["id"],
                "clinical_restatement": "Steady work that fits their training",
                "target_date": "2027-03-01",
                "steps": [{"description": "Ask about course fees", "who": "client"}],
            },
            {"client_words": "Sleep better"},
        ],
        "referrals": [
            {"agency": str(agency.pk), "client_decision": "accepted", "note": "Tuesdays"}
        ],
        "strengths_notes": "Keeps a careful diary",
        "review_date": "2027-01-15",
    }
    edited = api.patch(base, body, format="json", HTTP_IF_MATCH=read["ETag"])
    plan_body = check(edited, "PATCH", "/api/v1/plans/{id}/", id=str(plan.pk))
    assert plan_body["agreement"]["client_decision"] is None
    agree = {
        "agreement": {
            "client_decision": "agrees",
            "client_signed_name": "R.",
            "content_sha256": plan_body["content_sha256"],
        }
    }
    agreed = api.patch(base, agree, format="json", HTTP_IF_MATCH=edited["ETag"])
    plan_body = check(agreed, "PATCH", "/api/v1/plans/{id}/", id=str(plan.pk))
    assert plan_body["agreement"]["client_decision"] == "agrees"
    plan_body = check(api.get(base), "GET", "/api/v1/plans/{id}/", id=str(plan.pk))
    assert plan_body["versions"]
    assert plan_body["referrals"][0]["name"] == "Harbour Legal"
    assert plan_body["goals"][0]["steps"][0]["who"] == "client"

    empty = check(api.get(f"{base}reviews/"), "GET", "/api/v1/plans/{id}/reviews/", id=str(plan.pk))
    assert empty == {"results": []}
    ratings = [
        {"goal": g["id"], "progress": n, "client_note": "Getting there" if n else ""}
        for n, g in enumerate(plan_body["goals"])
    ]
    posted = api.post(f"{base}reviews/", {"goals": ratings, "note": "First look"}, format="json")
    assert posted.status_code == 201
    check(posted, "POST", "/api/v1/plans/{id}/reviews/", id=str(plan.pk))
    listed = check(
        api.get(f"{base}reviews/"), "GET", "/api/v1/plans/{id}/reviews/", id=str(plan.pk)
    )
    assert len(listed["results"][0]["goals"]) == 2

    suggested = check(
        api.get(f"{base}referral-suggestions"),
        "GET",
        "/api/v1/plans/{id}/referral-suggestions",
        id=str(plan.pk),
    )
    assert [s["name"] for s in suggested["suggestions"]] == ["Harbour Legal", "Unchecked Legal"]

    # The form definition, in each kind and language.
    for kind in ("individual", "couple"):
        for lang in ("en", "es"):
            check(
                api.get(f"/api/v1/forms/{kind}/?lang={lang}"),
                "GET",
                "/api/v1/forms/{kind}/",
                kind=kind,
            )

    # A couple's private checks: one written, one not yet.
    couple = intake_start(
        membership=alice.membership, actor=alice.user, client=alices_client, kind="couple"
    )
    private_url = f"/api/v1/intakes/{couple.pk}/private-checks/"
    unwritten = check(
        api.get(private_url), "GET", "/api/v1/intakes/{id}/private-checks/", id=str(couple.pk)
    )
    assert unwritten["private_check_a"] is None
    intake_submit_step(
        intake=couple,
        step=STEPS_BY_NAME["private_check_a"],
        answers={"feels_safe": "mostly", "wants_individual_time": True, "private_notes": "Quiet"},
        actor=alice.user,
    )
    written = check(
        api.get(private_url), "GET", "/api/v1/intakes/{id}/private-checks/", id=str(couple.pk)
    )
    assert written["private_check_a"]["wants_individual_time"] is True

    # The language check: findings, nothing found, and a language with no lexicon.
    for text, language in (
        ("The client refuses to talk and is a high-risk prostitute.", "en"),
        ("We talked about sleep.", "en"),
        ("Hablamos del sueño.", "es"),
    ):
        result = check(
            api.post(
                "/api/v1/language-check/", {"text": text, "language": language}, format="json"
            ),
            "POST",
            "/api/v1/language-check/",
        )
        assert result["checked"] is (language == "en")
    dismissed = api.post(
        "/api/v1/language-check/dismissals/", {"term": "refuses", "reason": "quoted"}, format="json"
    )
    assert dismissed.status_code == 201
    check(dismissed, "POST", "/api/v1/language-check/dismissals/")

    # A bulk export: queued when asked for, ready with its zip once the work has run.
    with django_capture_on_commit_callbacks(execute=True):
        started = admin_ann.api.post(
            "/api/v1/exports/", {"date_from": "2020-01-01", "date_to": "2029-12-31"}, format="json"
        )
    assert started.status_code == 202
    job = check(started, "POST", "/api/v1/exports/")
    ready = check(
        admin_ann.api.get(started["Location"]), "GET", "/api/v1/exports/{id}/", id=job["id"]
    )
    assert ready["status"] == "ready"
    assert ready["zip"].endswith("/zip")

    # A client made with its name only, and the list pages: every field is there.
    made = admin_ann.api.post("/api/v1/clients/", {"display_name": "Wren"}, format="json")
    assert made.status_code == 201
    client = check(made, "POST", "/api/v1/clients/")
    assert (client["pronouns"], client["external_id"]) == ("", "")
    assert client["care_team"] == [admin_ann.user.username]  # who made it
    page = check(api.get("/api/v1/clients/?page_size=1"), "GET", "/api/v1/clients/")
    assert page["previous"] is None
    assert page["next"]
    check(api.get("/api/v1/referral-agencies/"), "GET", "/api/v1/referral-agencies/")
    check(admin_ann.api.get("/api/v1/audit-events/"), "GET", "/api/v1/audit-events/")
    check(api.get("/api/v1/documents/"), "GET", "/api/v1/documents/")

    # FHIR: a read, the Questionnaire, a search with matches, and one without.
    fhir = {"HTTP_ACCEPT": "application/fhir+json"}
    check(
        api.get(f"/fhir/CarePlan/{plan.pk}", **fhir),
        "GET",
        "/fhir/{resource_type}/{id}",
        resource_type="CarePlan",
        id=str(plan.pk),
    )
    check(
        api.get("/fhir/Questionnaire/couple", **fhir),
        "GET",
        "/fhir/Questionnaire/{id}",
        id="couple",
    )
    found = check(
        api.get(f"/fhir/Goal?patient={plan.client_id}&_count=1", **fhir),
        "GET",
        "/fhir/{resource_type}",
        resource_type="Goal",
    )
    assert found["total"] == 2
    assert [link["relation"] for link in found["link"]] == ["self", "next"]
    nothing = check(
        api.get("/fhir/Goal?_lastUpdated=gt2099-01-01", **fhir),
        "GET",
        "/fhir/{resource_type}",
        resource_type="Goal",
    )
    assert "entry" not in nothing
    # FHIR errors are OperationOutcomes, as the schema now says.
    missing = api.get(f"/fhir/CarePlan/{uuid.uuid4()}", **fhir)
    outcome = check(missing, "GET", "/fhir/{resource_type}/{id}", resource_type="CarePlan", id="x")
    assert outcome["issue"][0]["code"] == "not-found"
    bad = api.get("/fhir/Goal?_count=many", **fhir)
    assert check(bad, "GET", "/fhir/{resource_type}", resource_type="Goal")["issue"]

    assert check.checked == TYPED_OPERATIONS | ALWAYS_COMPLETE_OPERATIONS
