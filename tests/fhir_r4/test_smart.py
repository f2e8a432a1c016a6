"""SMART Backend Services with real keys: registration, private_key_jwt assertions (RS384 and
ES384), short-lived tokens, and what a backend client may read."""

import json
import time
import uuid
from datetime import timedelta
from io import StringIO
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.management import CommandError, call_command
from django.utils import timezone
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from rest_framework.test import APIClient

from audit.models import AuditEvent
from smart.models import AccessToken
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
TOKEN_URL = "http://testserver/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def new_key(alg: str):
    if alg == "RS384":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    else:
        private = ec.generate_private_key(ec.SECP384R1())
        public = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    kid = uuid.uuid4().hex
    return private, {**public, "kid": kid, "alg": alg}


def register(tmp_path, clinic, jwks: dict, *scopes: str) -> str:
    path = tmp_path / f"{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(jwks))
    out = StringIO()
    args = ["register_backend_client", "--clinic", clinic.name, "--jwks-file", str(path)]
    if scopes:
        args += ["--scopes", *scopes]
    call_command(*args, stdout=out)
    line = out.getvalue().strip()
    assert line.startswith("CLIENT_ID=")
    return line.removeprefix("CLIENT_ID=")


class Backend:
    def __init__(self, client_id: str, private, jwk: dict) -> None:
        self.client_id, self.private, self.jwk = client_id, private, jwk

    def assertion(self, **overrides) -> str:
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": TOKEN_URL,
            "exp": int(time.time()) + 240,
            "jti": uuid.uuid4().hex,
            **overrides,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(
            claims, self.private, algorithm=self.jwk["alg"], headers={"kid": self.jwk["kid"]}
        )


def token_request(client, assertion: str, scope: str = "system/*.read", **extra):
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        "scope": scope,
        **extra,
    }
    return client.post(
        "/oauth/token", urlencode(form), content_type="application/x-www-form-urlencoded"
    )


@pytest.fixture(params=["RS384", "ES384"])
def backend(request, tmp_path, clinic_a) -> Backend:
    private, jwk = new_key(request.param)
    return Backend(register(tmp_path, clinic_a, {"keys": [jwk]}), private, jwk)


@pytest.fixture
def linked_plan(persona_plan, alices_client):
    alices_client.external_id = "EHR-77"
    alices_client.save()
    return persona_plan("not_a_topic")


def bearer(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_discovery(client) -> None:
    body = client.get("/.well-known/smart-configuration").json()
    assert body["token_endpoint"] == TOKEN_URL
    assert body["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert set(body["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert "client-confidential-asymmetric" in body["capabilities"]
    assert {"system/*.read", "system/*.rs"} <= set(body["scopes_supported"])


def test_a_signed_assertion_gets_a_short_lived_token_that_reads_fhir(
    client, backend, linked_plan, alice
) -> None:
    response = token_request(client, backend.assertion())
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert 0 < body["expires_in"] <= 300
    assert body["scope"] == "system/*.read"
    api = bearer(body["access_token"])
    read = api.get(f"/fhir/CarePlan/{linked_plan.pk}", HTTP_ACCEPT="application/fhir+json")
    assert read.status_code == 200, read.content
    found = api.get(f"/fhir/CarePlan?patient={linked_plan.client_id}").json()
    assert found["total"] == 1
    assert api.get(f"/fhir/Patient/{linked_plan.client_id}").json()["identifier"][0]["value"] == (
        "EHR-77"
    )
    event = AuditEvent.objects.filter(object_id=str(linked_plan.pk), action="read").last()
    assert event.actor_id is None
    assert event.detail["backend_client"] == backend.client_id
    # Only under /fhir/: the REST API does not take these tokens.
    assert api.get(f"/api/v1/plans/{linked_plan.pk}/").status_code == 401


def test_a_backend_client_reads_only_clients_linked_to_the_ehr(
    client, backend, linked_plan, alice, charlie, persona_plan
) -> None:
    unlinked = ClientFactory(clinic=alice.clinic)
    from tests.conftest import PERSONAS, completed_plan

    kind, steps = PERSONAS["continuing"]
    private_plan = completed_plan(alice, unlinked, kind, steps)
    elsewhere = ClientFactory(clinic=charlie.clinic, external_id="EHR-77")
    api = bearer(token_request(client, backend.assertion()).json()["access_token"])
    assert api.get(f"/fhir/CarePlan/{private_plan.pk}").status_code == 404
    assert api.get(f"/fhir/Patient/{unlinked.pk}").status_code == 404
    assert api.get(f"/fhir/Patient/{elsewhere.pk}").status_code == 404
    ids = [e["resource"]["id"] for e in api.get("/fhir/CarePlan").json()["entry"]]
    assert ids == [str(linked_plan.pk)]
    patients = api.get("/fhir/Patient?identifier=EHR-77").json()
    assert [e["resource"]["id"] for e in patients["entry"]] == [str(linked_plan.client_id)]


def error_of(response, status: int, error: str) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error
    assert response["Cache-Control"] == "no-store"
    return body["error_description"]


def test_replayed_jti_is_refused(client, backend) -> None:
    assertion = backend.assertion()
    assert token_request(client, assertion).status_code == 200
    assert "already been used" in error_of(token_request(client, assertion), 401, "invalid_client")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"aud": "https://elsewhere.example/oauth/token"}, "aud"),
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"exp": int(time.time()) + 3600}, "5 minutes"),
        ({"sub": "someone-else"}, "iss and sub"),
        ({"jti": None}, "jti"),
    ],
)
def test_bad_assertions_are_invalid_client(client, backend, overrides, message) -> None:
    description = error_of(
        token_request(client, backend.assertion(**overrides)), 401, "invalid_client"
    )
    assert message in description


def test_unknown_client_and_wrong_key(client, backend) -> None:
    stranger = Backend("not-registered", backend.private, backend.jwk)
    assert "Unknown" in error_of(token_request(client, stranger.assertion()), 401, "invalid_client")
    other_private, _ = new_key(backend.jwk["alg"])
    forger = Backend(backend.client_id, other_private, backend.jwk)  # same kid, other key
    description = error_of(token_request(client, forger.assertion()), 401, "invalid_client")
    assert "signature" in description
    hmac_signed = jwt.encode(
        {"iss": backend.client_id, "sub": backend.client_id, "aud": TOKEN_URL, "jti": "x"},
        "secret-" * 8,
        algorithm="HS384",
    )
    assert "RS384 or ES384" in error_of(token_request(client, hmac_signed), 401, "invalid_client")
    error_of(token_request(client, "not.a.jwt"), 401, "invalid_client")


def test_request_shape_errors(client, backend) -> None:
    error_of(
        token_request(client, backend.assertion(), grant_type="password"),
        400,
        "unsupported_grant_type",
    )
    error_of(
        token_request(client, backend.assertion(), client_assertion_type="basic"),
        400,
        "invalid_request",
    )
    error_of(token_request(client, backend.assertion(), scope=""), 400, "invalid_scope")
    error_of(
        token_request(client, backend.assertion(), scope="system/*.write"), 400, "invalid_scope"
    )
    assert client.get("/oauth/token").status_code == 405


def test_expired_access_tokens_are_refused(client, backend, linked_plan) -> None:
    token = token_request(client, backend.assertion()).json()["access_token"]
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(token).get(f"/fhir/CarePlan/{linked_plan.pk}")
    assert response.status_code == 401
    assert json.loads(response.content)["resourceType"] == "OperationOutcome"


def test_registered_scopes_limit_what_is_granted(client, tmp_path, clinic_a) -> None:
    private, jwk = new_key("ES384")
    backend = Backend(register(tmp_path, clinic_a, {"keys": [jwk]}, "system/*.rs"), private, jwk)
    refused = token_request(client, backend.assertion(), scope="system/*.cruds")
    error_of(refused, 400, "invalid_scope")
    body = token_request(client, backend.assertion(), scope="system/*.rs").json()
    assert body["scope"] == "system/*.rs"
    assert bearer(body["access_token"]).get("/fhir/CarePlan").status_code == 200


def test_a_narrower_scope_is_granted_and_holds(client, tmp_path, clinic_a, linked_plan) -> None:
    """An EHR asks for the least it needs (SMART's advice): one resource type, read only. It
    gets that, and only that, on every way in: read, search, Binary and bulk export."""
    private, jwk = new_key("ES384")
    backend = Backend(register(tmp_path, clinic_a, {"keys": [jwk]}), private, jwk)  # *.read
    plan_id, goal_id = linked_plan.pk, linked_plan.goals.first().pk
    body = token_request(client, backend.assertion(), scope="system/CarePlan.r").json()
    assert body["scope"] == "system/CarePlan.r"
    api = bearer(body["access_token"])
    assert api.get(f"/fhir/CarePlan/{plan_id}").status_code == 200
    for path, interaction in (
        ("/fhir/CarePlan", "search"),
        (f"/fhir/Goal/{goal_id}", "read"),
        (f"/fhir/Patient/{linked_plan.client_id}", "read"),
        ("/fhir/Binary/00000000-0000-0000-0000-000000000000", "read"),
    ):
        response = api.get(path)
        assert response.status_code == 403, path
        assert f"do not let it {interaction}" in response.json()["issue"][0]["diagnostics"]
    kick = api.get("/fhir/$export", HTTP_PREFER="respond-async")
    assert kick.status_code == 202, kick.content
    manifest = api.get(urlsplit(kick["Content-Location"]).path).json()
    assert [o["type"] for o in manifest["output"]] == ["CarePlan"]
    goals = api.get("/fhir/$export?_type=Goal", HTTP_PREFER="respond-async")
    assert goals.status_code == 403
    both = token_request(client, backend.assertion(), scope="system/CarePlan.rs system/Goal.s")
    api = bearer(both.json()["access_token"])
    assert api.get("/fhir/CarePlan").json()["total"] == 1
    assert api.get("/fhir/Goal").status_code == 200
    assert api.get(f"/fhir/Goal/{goal_id}").status_code == 403
    wider = Backend(register(tmp_path, clinic_a, {"keys": [jwk]}, "system/Goal.rs"), private, jwk)
    error_of(token_request(client, wider.assertion(), scope="system/*.read"), 400, "invalid_scope")


def test_registration_refuses_private_keys_unknown_clinics_and_scopes(tmp_path, clinic_a) -> None:
    private, jwk = new_key("RS384")
    full = RSAAlgorithm.to_jwk(private, as_dict=True)
    with pytest.raises(CommandError, match="private"):
        register(tmp_path, clinic_a, {"keys": [full]})
    with pytest.raises(CommandError, match="clinic"):
        register(tmp_path, type("C", (), {"name": "No such clinic"})(), {"keys": [jwk]})
    with pytest.raises(CommandError, match="Scopes"):
        register(tmp_path, clinic_a, {"keys": [jwk]}, "patient/*.read")
    with pytest.raises(CommandError, match="keys"):
        register(tmp_path, clinic_a, {"keys": []})


def test_a_backend_client_fetches_a_listed_pdf_by_its_attachment_url(
    client, backend, linked_plan, alice, monkeypatch
) -> None:
    """A system that lists the client's documents can fetch each one: attachment.url is an
    absolute link on this FHIR server that the same token opens (the PDF itself, or a FHIR
    Binary when FHIR JSON is asked for), each fetch a download in the audit. A person needs the
    export scope, as on the REST path; another clinic's id is a 404."""
    import base64
    from urllib.parse import urlsplit

    from documents import services as document_services
    from tests.conftest import make_persona

    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)
    doc = alice.api.post(f"/api/v1/plans/{linked_plan.pk}/documents/").json()["id"]
    document_services.document_render(document_id=doc, worker="w:1")
    api = bearer(token_request(client, backend.assertion()).json()["access_token"])
    listed = api.get(f"/fhir/DocumentReference?patient={linked_plan.client_id}").json()
    [reference] = [e["resource"] for e in listed["entry"]]
    url = reference["content"][0]["attachment"]["url"]
    assert url.startswith(("http://", "https://"))
    path = urlsplit(url).path
    assert path == f"/fhir/Binary/{doc}"
    pdf = api.get(path, HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200, pdf.content[:200]
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert len(pdf.content) == reference["content"][0]["attachment"]["size"]
    as_fhir = api.get(path, HTTP_ACCEPT="application/fhir+json").json()
    assert as_fhir["resourceType"] == "Binary"
    assert base64.b64decode(as_fhir["data"]) == pdf.content
    # Labelled as its DocumentReference (it holds the same words), and governed by it.
    assert as_fhir["meta"]["security"] == reference["meta"]["security"]
    assert {"versionId", "lastUpdated"} <= set(as_fhir["meta"])
    assert as_fhir["securityContext"] == {"reference": f"DocumentReference/{doc}"}
    downloads = AuditEvent.objects.filter(object_id=doc, detail__download=True)
    assert downloads.count() == 2
    assert downloads.last().detail["backend_client"] == backend.client_id
    reader = make_persona(alice.clinic, scopes=["read"])
    linked_plan.client.care_team.add(reader.user)
    assert reader.api.get(path).status_code == 403
    assert alice.api.get(path).content.startswith(b"%PDF")
    assert api.get(f"/fhir/Binary/{linked_plan.pk}").status_code == 404
