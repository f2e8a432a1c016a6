"""The OpenAPI schema as a generated client reads it: errors declared, request models without
read-only fields, lists declared as lists."""

import json

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(raw, default=str))


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_every_api_operation_declares_its_errors_in_the_error_shape(schema) -> None:
    error_ref = "#/components/schemas/Error"
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {
        "code",
        "detail",
        "errors",
    }
    for path, method, op in operations(schema):
        if not path.startswith("/api/v1/") or path == "/api/v1/schema/":
            continue
        responses = op["responses"]
        for code in ("401", "403"):
            assert code in responses, (method, path, code)
            assert responses[code]["content"]["application/json"]["schema"]["$ref"] == error_ref
        if "{" in path:
            assert "404" in responses, (method, path)
        if method in ("post", "put", "patch"):
            assert "400" in responses, (method, path)


def test_conflicts_are_declared_where_they_happen(schema) -> None:
    assert "409" in schema["paths"]["/api/v1/documents/{id}/pdf"]["get"]["responses"]


def test_request_models_leave_out_read_only_fields(schema) -> None:
    post = schema["paths"]["/api/v1/clients/"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request_model = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert not {"id", "created_at", "updated_at"} & set(request_model["properties"])
    assert "updated_since" not in {p["name"] for p in post.get("parameters", [])}
    get_params = {p["name"] for p in schema["paths"]["/api/v1/clients/"]["get"]["parameters"]}
    assert "updated_since" in get_params


def test_lists_are_declared_as_what_they_return(schema, admin_ann) -> None:
    webhooks = schema["paths"]["/api/v1/webhooks/"]["get"]["responses"]["200"]
    assert webhooks["content"]["application/json"]["schema"]["type"] == "array"
    assert isinstance(admin_ann.api.get("/api/v1/webhooks/").json(), list)
    for path in ("/api/v1/intakes/", "/api/v1/plans/", "/api/v1/documents/"):
        ref = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ]["$ref"]
        page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert page["properties"]["results"]["type"] == "array", path


def test_servers_block(schema) -> None:
    assert schema["servers"][0]["url"]


def test_enum_names_are_stable(schema) -> None:
    """A generated client names its enum types after these: a collision suffix such as
    Status719Enum would change whenever another serializer is added."""
    import re

    names = [n for n in schema["components"]["schemas"] if n.endswith("Enum")]
    assert {"IntakeStatusEnum", "DocumentStatusEnum", "KindEnum"} <= set(names)
    assert not [n for n in names if re.search(r"\d", n)]


def test_a_step_put_declares_its_body_required(schema) -> None:
    """A generated client must not offer to send a step with no body (it would save nothing)."""
    put = schema["paths"]["/api/v1/intakes/{id}/steps/{step}/"]["put"]
    assert put["requestBody"]["required"] is True


def test_fhir_operations_declare_the_406_they_answer(schema, alice) -> None:
    """FHIR XML asked for is a 406 OperationOutcome: declared, so a generated client parses it
    rather than raising; the Binary read serves the PDF whatever is asked, and declares none."""
    outcome = "#/components/schemas/FhirOperationOutcome"
    for path, _method, operation in operations(schema):
        if not path.startswith("/fhir/"):
            continue
        if path == "/fhir/Binary/{id}":
            assert "406" not in operation["responses"]
            continue
        declared = operation["responses"]["406"]["content"]["application/fhir+json"]["schema"]
        assert declared == {"$ref": outcome}, path
    answered = alice.api.get("/fhir/CarePlan", HTTP_ACCEPT="application/fhir+xml")
    assert answered.status_code == 406
    assert answered.json()["resourceType"] == "OperationOutcome"
