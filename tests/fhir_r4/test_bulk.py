"""FHIR Bulk Data $export: async kick-off, manifest, ndjson files built from what the requester
may read, for the requester only."""

import json
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from tests.conftest import PERSONAS, completed_plan, make_persona
from tests.factories import ClientFactory
from tests.fhir_r4.test_smart import Backend, new_key, register, token_request

pytestmark = pytest.mark.django_db
ASYNC = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@pytest.fixture
def system_api(client, tmp_path, clinic_a) -> APIClient:
    private, jwk = new_key("ES384")
    backend = Backend(register(tmp_path, clinic_a, {"keys": [jwk]}), private, jwk)
    api = APIClient()
    token = token_request(client, backend.assertion()).json()["access_token"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


@pytest.fixture
def plans(alice):
    kind, steps = PERSONAS["not_a_topic"]
    clients = [
        ClientFactory(clinic=alice.clinic, external_id="E1"),
        ClientFactory(clinic=alice.clinic),
    ]
    for client in clients:
        client.care_team.add(alice.user)  # alice works with both
    linked, unlinked = (completed_plan(alice, c, kind, steps) for c in clients)
    return linked, unlinked


def kick_off(api, path: str = "/fhir/$export") -> str:
    response = api.get(path, **ASYNC)
    assert response.status_code == 202, response.content
    return local(response["Content-Location"])


def test_system_export_of_linked_clients_as_ndjson(system_api, plans) -> None:
    linked, _unlinked = plans
    manifest = system_api.get(kick_off(system_api)).json()
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"] == "http://testserver/fhir/$export"
    files = {o["type"]: local(o["url"]) for o in manifest["output"]}
    assert set(files) == {
        "Patient",
        "QuestionnaireResponse",
        "Consent",
        "CarePlan",
        "Goal",
        "DocumentReference",
    }
    response = system_api.get(files["CarePlan"])
    assert response["Content-Type"].startswith("application/fhir+ndjson")
    lines = [json.loads(line) for line in response.content.decode().splitlines()]
    assert [r["id"] for r in lines] == [str(linked.pk)]
    assert all(r["resourceType"] == "CarePlan" for r in lines)
    goals = system_api.get(files["Goal"]).content.decode().splitlines()
    assert len(goals) == 2
    patients = [json.loads(x)["id"] for x in system_api.get(files["Patient"]).content.splitlines()]
    assert patients == [str(linked.client_id)]


def test_patient_level_export_types_and_since(system_api, plans) -> None:
    status = kick_off(system_api, "/fhir/Patient/$export?_type=CarePlan,Goal")
    manifest = system_api.get(status).json()
    assert [o["type"] for o in manifest["output"]] == ["CarePlan", "Goal"]
    # The manifest's `request` is the kick-off as made (the Bulk Data spec's meaning).
    assert manifest["request"] == "http://testserver/fhir/Patient/$export?_type=CarePlan,Goal"
    later = kick_off(system_api, "/fhir/$export?_type=CarePlan&_since=2999-01-01T00:00:00Z")
    manifest = system_api.get(later).json()
    assert manifest["request"] == (
        "http://testserver/fhir/$export?_type=CarePlan&_since=2999-01-01T00:00:00Z"
    )
    url = local(manifest["output"][0]["url"])
    assert system_api.get(url).content == b""


def test_capability_statement_names_the_export_operations(client) -> None:
    rest = client.get("/fhir/metadata").json()["rest"][0]
    assert {o["name"] for o in rest["operation"]} == {"export", "patient-export"}


def test_export_request_errors(system_api, plans) -> None:
    for path, headers, status in (
        ("/fhir/$export", {"HTTP_ACCEPT": "application/fhir+json"}, 400),
        ("/fhir/$export?_type=Observation", ASYNC, 400),
        ("/fhir/$export?_outputFormat=text/csv", ASYNC, 400),
        ("/fhir/$export?_since=yesterday", ASYNC, 400),
    ):
        response = system_api.get(path, **headers)
        assert response.status_code == status, path
        assert json.loads(response.content)["resourceType"] == "OperationOutcome"


def test_only_the_requester_fetches_and_people_need_the_export_scope(
    system_api, alice, plans, client
) -> None:
    status = kick_off(system_api)
    assert alice.api.get(status).status_code == 404
    reader_only = make_persona(alice.clinic, scopes=["read"])
    assert reader_only.api.get("/fhir/$export", **ASYNC).status_code == 403
    mine = kick_off(alice.api)
    manifest = alice.api.get(mine).json()
    plans_file = next(local(o["url"]) for o in manifest["output"] if o["type"] == "CarePlan")
    ids = {json.loads(x)["id"] for x in alice.api.get(plans_file).content.splitlines()}
    assert ids == {str(p.pk) for p in plans}  # a clinician reads both, linked or not
    assert system_api.get(plans_file).status_code == 404
    assert alice.api.delete(mine).status_code == 202
    assert alice.api.get(mine).status_code == 404
