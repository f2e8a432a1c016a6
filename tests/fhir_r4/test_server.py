"""The FHIR server as a stock FHIR client meets it: content negotiation, OperationOutcome for
every error, CapabilityStatement, Patient, search Bundles with paging, versions and ETags."""

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from rest_framework.test import APIClient

from clients.models import Client
from tests.conftest import make_persona
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def outcome_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    body = json.loads(response.content)
    OperationOutcome.model_validate(body)
    assert body["issue"][0]["severity"] == "error"
    return body


@pytest.fixture
def plan(persona_plan, alices_client):
    alices_client.external_id = "EHR-0042"
    alices_client.save()
    return persona_plan("not_a_topic")


@pytest.mark.parametrize(
    ("accept", "query", "content_type"),
    [
        ("application/fhir+json", "", "application/fhir+json"),
        ("application/fhir+json; fhirVersion=4.0", "", "application/fhir+json"),
        ("application/json", "", "application/json"),
        ("text/html", "?_format=json", "application/fhir+json"),
        ("text/html", "?_format=application/fhir%2Bjson", "application/fhir+json"),
        ("*/*", "", "application/fhir+json"),
    ],
)
def test_json_is_served_for_every_json_accept(alice, plan, accept, query, content_type) -> None:
    response = alice.api.get(f"/fhir/CarePlan/{plan.pk}{query}", HTTP_ACCEPT=accept)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].split(";")[0] == content_type
    assert json.loads(response.content)["resourceType"] == "CarePlan"


@pytest.mark.parametrize(
    ("accept", "query"),
    [("application/fhir+xml", ""), ("text/html", ""), ("*/*", "?_format=xml")],
)
def test_anything_but_json_is_406_as_operation_outcome(alice, plan, accept, query) -> None:
    response = alice.api.get(f"/fhir/CarePlan/{plan.pk}{query}", HTTP_ACCEPT=accept)
    outcome_of(response, 406)


def test_every_error_is_an_operation_outcome_never_html(alice, plan, client) -> None:
    outcome_of(alice.api.get("/fhir/Nonsense/123"), 404)
    outcome_of(alice.api.get("/fhir/Patient/00000000-0000-0000-0000-000000000000"), 404)
    outcome_of(alice.api.get("/fhir/CarePlan/not-a-uuid"), 404)
    outcome_of(alice.api.get("/fhir/a/b/c/d"), 404)
    outcome_of(client.get("/fhir/"), 404)
    outcome_of(client.get("/fhir"), 404)
    unsigned = outcome_of(client.get(f"/fhir/CarePlan/{plan.pk}"), 401)
    assert unsigned["issue"][0]["code"] == "login"
    response = client.get(f"/fhir/CarePlan/{plan.pk}")
    assert response["WWW-Authenticate"].startswith("Bearer")
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    outcome_of(bad.get(f"/fhir/CarePlan/{plan.pk}"), 401)
    writer = make_persona(alice.clinic, scopes=["write"])
    outcome_of(writer.api.get(f"/fhir/CarePlan/{plan.pk}"), 403)
    response = alice.api.post(f"/fhir/CarePlan/{plan.pk}", {}, format="json")
    outcome_of(response, 405)
    assert "GET" in response["Allow"]
    body = outcome_of(alice.api.get("/fhir/CarePlan?subject=x"), 400)
    assert body["issue"][0]["expression"] == ["subject"]
    body = outcome_of(alice.api.get("/fhir/Goal?_lastUpdated=gt2026-13-45"), 400)
    assert body["issue"][0]["expression"] == ["_lastUpdated"]
    outcome_of(alice.api.get("/fhir/Goal?_count=0"), 400)
    outcome_of(alice.api.get("/fhir/Goal?_count=abc"), 400)


def test_metadata_is_a_capability_statement_without_sign_in(client) -> None:
    response = client.get("/fhir/metadata", HTTP_ACCEPT="application/fhir+json")
    assert response.status_code == 200
    body = json.loads(response.content)
    CapabilityStatement.model_validate(body)
    assert body["fhirVersion"] == "4.0.1"
    rest = body["rest"][0]
    types = {r["type"]: r for r in rest["resource"]}
    for name in ("Patient", "CarePlan", "Goal", "QuestionnaireResponse", "DocumentReference"):
        assert {"code": "search-type"} in types[name]["interaction"], name
    assert "Consent" in types
    assert "patient" in [p["name"] for p in types["CarePlan"]["searchParam"]]
    token = rest["security"]["extension"][0]["extension"][0]["valueUri"]
    assert token == "http://testserver/oauth/token"


def test_patient_is_alias_based_with_the_ehr_id(alice, plan, charlie) -> None:
    response = alice.api.get(f"/fhir/Patient/{plan.client_id}")
    assert response.status_code == 200
    body = json.loads(response.content)
    Patient.model_validate(body)
    assert body["name"] == [{"use": "usual", "text": "River"}]
    assert body["identifier"][0]["value"] == "EHR-0042"
    assert body["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert "official" not in json.dumps(body)
    assert body["extension"][0]["extension"][0]["valueCodeableConcept"]["text"] == "they/them"
    outcome_of(charlie.api.get(f"/fhir/Patient/{plan.client_id}"), 404)


def test_last_modified_is_an_http_date_that_if_modified_since_answers(alice, plan) -> None:
    """RFC 9110: Last-Modified is an HTTP date (what caches parse); If-Modified-Since at or
    after it answers 304, before it the resource; If-None-Match, when sent, decides."""
    from django.utils.http import http_date, parse_http_date

    response = alice.api.get(f"/fhir/CarePlan/{plan.pk}")
    stamp = parse_http_date(response["Last-Modified"])  # raises unless an HTTP date
    assert abs(stamp - plan.updated_at.timestamp()) < 1
    path = f"/fhir/CarePlan/{plan.pk}"
    assert alice.api.get(path, HTTP_IF_MODIFIED_SINCE=http_date(stamp)).status_code == 304
    later = http_date(stamp + 3600)
    assert alice.api.get(path, HTTP_IF_MODIFIED_SINCE=later).status_code == 304
    earlier = alice.api.get(path, HTTP_IF_MODIFIED_SINCE=http_date(stamp - 3600))
    assert earlier.status_code == 200
    stale = alice.api.get(path, HTTP_IF_MODIFIED_SINCE=later, HTTP_IF_NONE_MATCH='W/"old"')
    assert stale.status_code == 200
    assert alice.api.get(path, HTTP_IF_MODIFIED_SINCE="not a date").status_code == 200


def test_reads_carry_version_last_updated_and_etag(alice, plan) -> None:
    response = alice.api.get(f"/fhir/CarePlan/{plan.pk}")
    body = json.loads(response.content)
    version = body["meta"]["versionId"]
    assert body["meta"]["lastUpdated"].startswith(plan.updated_at.date().isoformat())
    assert response["ETag"] == f'W/"{version}"'
    again = alice.api.get(f"/fhir/CarePlan/{plan.pk}", HTTP_IF_NONE_MATCH=f'W/"{version}"')
    assert again.status_code == 304
    alice.api.patch(
        f"/api/v1/plans/{plan.pk}/",
        {"safety_plan": "Call Jo first"},
        format="json",
        HTTP_IF_MATCH=alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"],
    )
    changed = json.loads(alice.api.get(f"/fhir/CarePlan/{plan.pk}").content)
    assert changed["meta"]["versionId"] != version
    for path in (
        f"/fhir/Goal/{plan.goals.first().pk}",
        f"/fhir/QuestionnaireResponse/{plan.intake_id}",
        f"/fhir/Consent/{plan.intake_id}",
        f"/fhir/Patient/{plan.client_id}",
        "/fhir/Questionnaire/individual",
    ):
        response = alice.api.get(path)
        meta = json.loads(response.content)["meta"]
        assert meta["versionId"], path
        assert meta["lastUpdated"], path
        assert response["ETag"] == f'W/"{meta["versionId"]}"', path


def search(persona, url: str) -> dict:
    response = persona.api.get(url, HTTP_ACCEPT="application/fhir+json")
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    Bundle.model_validate(body)
    assert (body["resourceType"], body["type"]) == ("Bundle", "searchset")
    return body


@pytest.mark.parametrize(
    "resource", ["CarePlan", "Goal", "QuestionnaireResponse", "Consent", "DocumentReference"]
)
def test_search_by_patient_returns_a_searchset(alice, plan, charlie, resource) -> None:
    alice.api.post(f"/api/v1/plans/{plan.pk}/documents/")
    body = search(alice, f"/fhir/{resource}?patient={plan.client_id}")
    assert body["total"] >= 1
    for entry in body["entry"]:
        assert entry["resource"]["resourceType"] == resource
        assert entry["fullUrl"] == f"http://testserver/fhir/{resource}/{entry['resource']['id']}"
        assert entry["resource"]["meta"]["versionId"]
    same = search(alice, f"/fhir/{resource}?patient=Patient/{plan.client_id}")
    assert same["total"] == body["total"]
    other = ClientFactory(clinic=alice.clinic)
    assert search(alice, f"/fhir/{resource}?patient={other.pk}")["total"] == 0
    # Another clinic's patient: nothing, not an error that tells it exists.
    assert search(charlie, f"/fhir/{resource}?patient={plan.client_id}")["total"] == 0
    assert search(alice, f"/fhir/{resource}?patient=not-a-uuid")["total"] == 0


def test_search_by_status_and_category_as_us_core_clients_ask(alice, plan) -> None:
    """US Core's CarePlan search is patient + category (+ status); Goal's lifecycle-status; a
    DocumentReference's category and type. A code this server never uses matches nothing."""

    def total(query: str) -> int:
        return search(alice, f"/fhir/{query}")["total"]

    patient = f"patient={plan.client_id}"
    goals = plan.goals.count()
    assert total(f"CarePlan?{patient}&category=assess-plan") == 1
    us_core = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
    assert total(f"CarePlan?{patient}&category={us_core}|assess-plan") == 1
    assert total(f"CarePlan?{patient}&category=http://snomed.info/sct|718347000") == 1
    assert total(f"CarePlan?{patient}&category=http://example.org|assess-plan") == 0
    assert total(f"CarePlan?{patient}&category=encounter") == 0
    assert total(f"CarePlan?{patient}&status=draft") == 1
    assert total(f"CarePlan?{patient}&status=active") == 0
    assert total(f"Goal?{patient}&lifecycle-status=proposed") == goals
    assert total(f"Goal?{patient}&lifecycle-status=active") == 0
    etag = alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"]
    agree = {"agreement": {"client_decision": "agrees"}}
    saved = alice.api.patch(f"/api/v1/plans/{plan.pk}/", agree, format="json", HTTP_IF_MATCH=etag)
    assert saved.status_code == 200, saved.content
    assert total(f"CarePlan?{patient}&status=active") == 1
    assert total(f"CarePlan?{patient}&status=draft,active&status=active") == 1
    assert total(f"CarePlan?{patient}&status=draft") == 0
    assert total(f"Goal?{patient}&lifecycle-status=active") == goals
    alice.api.post(f"/api/v1/plans/{plan.pk}/documents/")
    note = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
    assert total(f"DocumentReference?{patient}&category={note}|clinical-note") >= 1
    assert total(f"DocumentReference?{patient}&type=http://loinc.org|18776-5") >= 1
    assert total(f"DocumentReference?{patient}&type=http://loinc.org|11506-3") == 0
    for bad in ("CarePlan?status=", "CarePlan?status=active,", "Patient?status=active"):
        response = alice.api.get(f"/fhir/{bad}")
        assert response.status_code == 400, bad
        assert "status" in json.loads(response.content)["issue"][0]["diagnostics"], bad
    statement = json.loads(alice.api.get("/fhir/metadata").content)
    params = {
        r["type"]: {p["name"]: p["type"] for p in r.get("searchParam", [])}
        for r in statement["rest"][0]["resource"]
    }
    assert params["CarePlan"]["category"] == params["CarePlan"]["status"] == "token"
    assert params["Goal"]["lifecycle-status"] == "token"
    assert {"status", "category", "type"} <= set(params["DocumentReference"])


def test_post_search_keeps_the_identifier_out_of_the_url(alice, plan) -> None:
    """POST {type}/_search with a form body finds what the GET finds; a read-only token may use
    it; only a form body is taken; a POST to the type itself is still refused (read-only)."""
    reader = make_persona(alice.clinic, scopes=["read"])
    plan.client.care_team.add(reader.user)
    by_get = search(reader, "/fhir/Patient?identifier=EHR-0042")
    response = reader.api.post(
        "/fhir/Patient/_search",
        "identifier=EHR-0042",
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCEPT="application/fhir+json",
    )
    assert response.status_code == 200, response.content
    by_post = json.loads(response.content)
    Bundle.model_validate(by_post)
    assert by_post["total"] == by_get["total"] == 1
    assert by_post["entry"][0]["resource"]["id"] == str(plan.client_id)
    both = reader.api.post(
        f"/fhir/CarePlan/_search?patient={plan.client_id}",
        "status=draft",
        content_type="application/x-www-form-urlencoded",
    )
    assert json.loads(both.content)["total"] == 1
    as_json = reader.api.post("/fhir/Patient/_search", {"identifier": "EHR-0042"}, format="json")
    outcome_of(as_json, 415)
    unknown = reader.api.post(
        "/fhir/Patient/_search", "nickname=x", content_type="application/x-www-form-urlencoded"
    )
    assert "nickname" in outcome_of(unknown, 400)["issue"][0]["diagnostics"]
    outcome_of(alice.api.post("/fhir/Patient", {}, format="json"), 405)


def test_search_pages_with_count_and_next_links(alice, plan) -> None:
    first = search(alice, f"/fhir/Goal?patient={plan.client_id}&_count=1")
    assert first["total"] == 2
    assert len(first["entry"]) == 1
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "_count=1" in links["self"]
    nxt = urlsplit(links["next"])
    second = search(alice, f"{nxt.path}?{nxt.query}")
    assert len(second["entry"]) == 1
    assert "next" not in {link["relation"] for link in second["link"]}
    ids = {first["entry"][0]["resource"]["id"], second["entry"][0]["resource"]["id"]}
    assert ids == {str(g.pk) for g in plan.goals.all()}


def test_search_by_last_updated(alice, plan) -> None:
    today = timezone.now().date()
    yesterday = (today - timedelta(days=1)).isoformat()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert search(alice, f"/fhir/CarePlan?_lastUpdated=gt{yesterday}")["total"] == 1
    assert search(alice, f"/fhir/CarePlan?_lastUpdated=gt{today.isoformat()}")["total"] == 0
    assert search(alice, f"/fhir/CarePlan?_lastUpdated=lt{tomorrow}")["total"] == 1
    assert search(alice, f"/fhir/Goal?_lastUpdated=ge{today.isoformat()}")["total"] == 2
    assert search(alice, f"/fhir/Goal?_lastUpdated={today.isoformat()}")["total"] == 2
    assert search(alice, f"/fhir/Goal?_lastUpdated=le{yesterday}")["total"] == 0
    moment = (timezone.now() - timedelta(minutes=5)).isoformat().replace("+", "%2B")
    assert search(alice, f"/fhir/QuestionnaireResponse?_lastUpdated=gt{moment}")["total"] == 1


def test_patient_search_by_ehr_identifier(alice, plan, charlie, settings) -> None:
    """FHIR token search: `value` matches in any system, `|value` only identifiers with no
    system, `system|value` only that system's (an MRN of another authority is not ours)."""
    ClientFactory(clinic=charlie.clinic, external_id="EHR-0042")
    mine = [str(plan.client_id)]

    def found(query: str) -> list[str]:
        bundle = search(alice, f"/fhir/Patient?{query}")
        return [e["resource"]["id"] for e in bundle.get("entry", [])]

    settings.FHIR_EHR_ID_SYSTEM = ""
    assert found("identifier=EHR-0042") == mine
    assert found("identifier=|EHR-0042") == mine
    assert found("identifier=urn:any|EHR-0042") == []
    assert search(alice, "/fhir/Patient?identifier=EHR-9")["total"] == 0
    settings.FHIR_EHR_ID_SYSTEM = "urn:oid:1.2.3"
    assert found("identifier=urn:oid:1.2.3|EHR-0042") == mine
    assert found("identifier=EHR-0042") == mine
    assert found("identifier=urn:any|EHR-0042") == []
    assert found("identifier=|EHR-0042") == []


def test_clients_api_filters_by_external_id_through_a_keyed_hash(alice, charlie) -> None:
    mine = ClientFactory(clinic=alice.clinic, external_id="MRN-7")
    mine.care_team.add(alice.user)  # who may change the record (and its EHR id)
    ClientFactory(clinic=alice.clinic, external_id="MRN-70")
    ClientFactory(clinic=alice.clinic)
    ClientFactory(clinic=charlie.clinic, external_id="MRN-7")
    response = alice.api.get("/api/v1/clients/?external_id=MRN-7")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(mine.pk)]
    assert alice.api.get("/api/v1/clients/?external_id=nothing").json()["results"] == []
    empty = alice.api.get("/api/v1/clients/?external_id=")
    assert empty.status_code == 400
    assert "external_id" in empty.json()["errors"]
    # Stored as a keyed hash, never in clear; a PATCH keeps it in step.
    stored = Client.objects.values_list("external_id_hash", flat=True).get(pk=mine.pk)
    assert stored
    assert "MRN-7" not in stored
    alice.api.patch(f"/api/v1/clients/{mine.pk}/", {"external_id": "MRN-8"}, format="json")
    assert alice.api.get("/api/v1/clients/?external_id=MRN-7").json()["results"] == []
    found = alice.api.get("/api/v1/clients/?external_id=MRN-8").json()["results"]
    assert [row["id"] for row in found] == [str(mine.pk)]
