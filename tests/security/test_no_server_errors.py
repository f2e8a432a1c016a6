"""Issue 11 item 9: malformed input and a database outage answer 4xx/503 in the JSON error
shape {"code", "detail", "errors"}, never a 500 or an HTML page."""

import json

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.conftest import make_persona

SHAPE = {"code", "detail", "errors"}


def assert_shape(response, status: int | tuple[int, ...]) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == SHAPE
    return body


@pytest.fixture
def admin_on_team(db, admin_ann, persona_plan):
    plan = persona_plan("continuing")
    plan.client.care_team.add(admin_ann.user)
    return admin_ann, plan


def writes(plan) -> list[tuple[str, str]]:
    return [
        ("POST", "/api/v1/clients/"),
        ("PATCH", f"/api/v1/clients/{plan.client_id}/"),
        ("POST", "/api/v1/intakes/"),
        ("PUT", f"/api/v1/intakes/{plan.intake_id}/steps/goals/"),
        ("PATCH", f"/api/v1/plans/{plan.pk}/"),
        ("POST", "/api/v1/language-check/"),
        ("POST", "/api/v1/language-check/dismissals/"),
        ("POST", "/api/v1/referral-agencies/"),
        ("POST", "/api/v1/webhooks/"),
        ("POST", "/api/v1/exports/"),
    ]


def test_json_nested_1000_deep_is_400_on_every_write(admin_on_team) -> None:
    admin, plan = admin_on_team
    deep = "[" * 1000 + "]" * 1000
    body = '{"display_name": ' + deep + "}"
    for method, path in writes(plan):
        response = admin.api.generic(method, path, body, content_type="application/json")
        assert_shape(response, 400)
        assert (
            admin.api.generic(method, path, deep, content_type="application/json").status_code
            == 400
        )
    # An endpoint that reads no body may ignore it, but never fails on it.
    documents = admin.api.post(
        f"/api/v1/plans/{plan.pk}/documents/", deep, content_type="application/json"
    )
    assert documents.status_code < 500


def test_a_lone_surrogate_in_step_answers_is_400_naming_the_field(admin_on_team) -> None:
    admin, plan = admin_on_team
    intake = admin.api.post(
        "/api/v1/intakes/", {"client": str(plan.client_id), "kind": "individual"}, format="json"
    ).json()["id"]
    raw = '{"client_goals": ["fine", "\\ud800 alone"]}'
    response = admin.api.generic(
        "PUT", f"/api/v1/intakes/{intake}/steps/goals/", raw, content_type="application/json"
    )
    body = assert_shape(response, 400)
    assert list(body["errors"]) == ["client_goals.1"]
    assert "alone" not in response.content.decode()
    # The same in a key, and on another write.
    raw_key = '{"\\udfff": "x"}'
    response = admin.api.generic(
        "PATCH", f"/api/v1/plans/{plan.pk}/", raw_key, content_type="application/json"
    )
    assert_shape(response, 400)


@pytest.mark.parametrize(
    "value", ["2024-01-01T00:00:00+99:99", "2024-01-01T00:00:00-24:00", "9999-12-31T23:59:59-23:59"]
)
def test_impossible_offsets_in_timestamps_are_400(admin_ann, value) -> None:
    clients = admin_ann.api.get("/api/v1/clients/", {"updated_since": value})
    assert list(assert_shape(clients, 400)["errors"]) == ["updated_since"]
    audit = admin_ann.api.get("/api/v1/audit-events/", {"since": value})
    assert list(assert_shape(audit, 400)["errors"]) == ["since"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date_from": "2024-01-01", "date_to": "9999-12-31"}, "date_to"),
        ({"date_from": "9999-12-31", "date_to": "9999-12-31"}, "date_from"),
        ({"date_from": "0001-01-01", "date_to": "2024-01-01"}, "date_from"),
    ],
)
def test_extreme_years_in_an_export_range_are_400(alice, body, field) -> None:
    exporter = make_persona(alice.clinic, scopes=["read", "export"])
    response = exporter.api.post("/api/v1/exports/", body, format="json")
    assert field in assert_shape(response, 400)["errors"]


def test_extreme_years_in_the_web_export_form_are_a_form_error(admin_ann) -> None:
    from django.test import Client as Browser

    browser = Browser()
    browser.force_login(admin_ann.user)
    response = browser.post("/exports/", {"date_from": "2024-01-01", "date_to": "9999-12-31"})
    assert response.status_code == 200
    assert "Use a date between" in response.content.decode()


def test_every_api_request_while_the_database_is_down_is_503_json(
    transactional_db, alice, persona_plan
) -> None:
    plan = persona_plan("continuing")
    session = APIClient(raise_request_exception=False)
    session.force_login(alice.user)
    session_cookie = session.cookies
    token = APIClient(raise_request_exception=False)
    token.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.token}")
    anonymous = APIClient(raise_request_exception=False)
    paths = [
        ("GET", "/api/v1/clients/"),
        ("GET", f"/api/v1/plans/{plan.pk}/"),
        ("GET", f"/api/v1/plans/{plan.pk}/preview"),
        ("GET", "/api/v1/me"),
        ("GET", f"/fhir/CarePlan/{plan.pk}"),
        ("POST", "/api/v1/clients/"),
        ("PATCH", f"/api/v1/plans/{plan.pk}/"),
    ]
    down = _down()
    with down:
        for client, expected in ((session, (503,)), (token, (503,)), (anonymous, (401, 503))):
            for method, path in paths:
                response = client.generic(
                    method, path, json.dumps({"display_name": "x"}), content_type="application/json"
                )
                assert response.status_code in expected, (path, response.status_code)
                if path.startswith("/fhir/"):  # FHIR's own error shape
                    assert response.json()["resourceType"] == "OperationOutcome"
                else:
                    assert_shape(response, expected)
                if response.status_code == 503:
                    assert response["Retry-After"]
    assert session_cookie


class _down:
    def __enter__(self) -> None:
        self.original = dict(connection.settings_dict)
        connection.close()
        connection.settings_dict["NAME"] = "/nonexistent/no-such-database"
        if connection.vendor == "postgresql":
            connection.settings_dict["PORT"] = "1"

    def __exit__(self, *exc: object) -> None:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(self.original)


def test_errors_raised_outside_drf_keep_the_api_and_fhir_shapes(alice) -> None:
    """A mistyped API path, a session that ended while its request ran (signed out in another
    tab), a permission refused by plain Django: JSON on API paths, an OperationOutcome on FHIR
    paths, Django's pages on the web pages."""
    from django.contrib.sessions.exceptions import SessionInterrupted
    from django.core.exceptions import PermissionDenied
    from django.test import Client, RequestFactory
    from django.urls import get_resolver

    assert_shape(alice.api.get("/api/v1/no-such-thing/"), 404)
    assert assert_shape(alice.api.get("/api/no-version/"), 404)["code"] == "not_found"
    assert assert_shape(alice.api.get("/api"), 404)["code"] == "not_found"
    # A write to an API path without its final slash is not redirected (a client would follow
    # a 301 with a GET, and a create would quietly read a list): a 404 saying so.
    from clients.models import Client as ClinicClient

    before = ClinicClient.objects.count()
    for method in ("post", "patch", "delete"):
        response = getattr(alice.api, method)("/api/v1/clients", {"display_name": "Wren"})
        assert "ends with a slash" in assert_shape(response, 404)["detail"]
    assert ClinicClient.objects.count() == before
    assert alice.api.get("/api/v1/clients").status_code == 301  # a read may still be redirected
    # And the other way round: a path that has no final slash, asked with one (a token
    # endpoint of an OAuth client included).
    assert "has no final slash" in assert_shape(alice.api.get("/api/v1/me/"), 404)["detail"]
    token = Client().post("/oauth/token/", {"grant_type": "client_credentials"})
    assert "has no final slash" in assert_shape(token, 404)["detail"]
    web = Client().get("/no-such-page/")
    assert web.status_code == 404
    assert web["Content-Type"].startswith("text/html")
    # The handlers Django calls for a 400 (e.g. a session deleted while its request ran, which
    # Django cannot save) and a 403 raised outside DRF.
    resolver = get_resolver()
    factory = RequestFactory()
    for status, exc in ((400, SessionInterrupted()), (403, PermissionDenied())):
        handler = resolver.resolve_error_handler(status)
        api = handler(factory.get("/api/v1/me"), exception=exc)
        assert (api.status_code, api["Content-Type"]) == (status, "application/json")
        assert set(json.loads(api.content)) == SHAPE
        fhir = handler(factory.get("/fhir/CarePlan/x"), exception=exc)
        assert fhir.status_code == status
        assert json.loads(fhir.content)["resourceType"] == "OperationOutcome"
        page = handler(factory.get("/clients/"), exception=exc)
        assert page.status_code == status
        assert page["Content-Type"].startswith("text/html")


def test_a_body_sent_chunked_is_refused_411_not_read_as_empty(alice, persona_plan) -> None:
    """As gunicorn hands Django a chunked request: a Transfer-Encoding header, no Content-Length,
    the body on wsgi.input. Read by its (absent) length it would be empty, and an empty PDF
    request is valid: a copy without the asked-for passphrase. A 411 instead, nothing made."""
    import io
    import json

    from django.test.client import ClientHandler

    from documents.models import PlanDocument

    plan = persona_plan("continuing")
    body = json.dumps({"passphrase": "kestrel-7", "wording_reviewed": True}).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": f"/api/v1/plans/{plan.pk}/documents/",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_AUTHORIZATION": f"Bearer {alice.token}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    # The test client's handler: Django's WSGI handling, without closing the test's database.
    response = ClientHandler(enforce_csrf_checks=False)(environ)
    assert response.status_code == 411
    answer = json.loads(response.content)
    assert answer["code"] == "length_required"
    assert "Content-Length" in answer["detail"]
    assert not PlanDocument.objects.exists()
