"""Errors name the field and never repeat what was sent: a value, or a key the caller made up,
could be the client's own words."""

import json
import logging

import pytest

pytestmark = pytest.mark.django_db
MARK = "Wren said she sleeps at the shelter"


def test_an_unknown_choice_is_not_repeated(alice, alices_client, persona_plan) -> None:
    response = alice.api.post(
        "/api/v1/intakes/", {"client": str(alices_client.pk), "kind": MARK}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["kind"]
    assert MARK not in response.content.decode()
    plan = persona_plan("continuing")
    response = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/", {"sections": [MARK]}, format="json"
    )
    assert response.status_code == 400
    assert "sections" in str(response.json()["errors"])
    assert MARK not in response.content.decode()


def test_unknown_paths_are_not_repeated(alice, alices_client) -> None:
    assert MARK not in alice.api.get(f"/api/v1/forms/{MARK}/").content.decode()
    intake = alice.api.post(
        "/api/v1/intakes/", {"client": str(alices_client.pk), "kind": "individual"}, format="json"
    ).json()
    response = alice.api.put(f"/api/v1/intakes/{intake['id']}/steps/{MARK}/", {}, format="json")
    assert response.status_code == 404
    assert MARK not in response.content.decode()


def test_a_made_up_field_name_is_not_logged(alice, alices_client, caplog) -> None:
    intake = alice.api.post(
        "/api/v1/intakes/", {"client": str(alices_client.pk), "kind": "individual"}, format="json"
    ).json()
    with caplog.at_level(logging.INFO):
        response = alice.api.put(
            f"/api/v1/intakes/{intake['id']}/steps/about/", {MARK: "x"}, format="json"
        )
    assert response.status_code == 400
    assert MARK not in caplog.text
    assert "validation failed on fields" in caplog.text


def test_a_made_up_field_name_is_not_sent_back_but_a_typo_is(alice, alices_client) -> None:
    intake = alice.api.post(
        "/api/v1/intakes/", {"client": str(alices_client.pk), "kind": "individual"}, format="json"
    ).json()
    url = f"/api/v1/intakes/{intake['id']}/steps/about/"
    response = alice.api.put(url, {MARK: "x", "work_focuss": "no"}, format="json")
    assert response.status_code == 400
    assert MARK not in response.content.decode()
    errors = response.json()["errors"]
    assert errors["work_focuss"] == ["This step has no field by this name."]
    assert errors["non_field_errors"][0].startswith("1 name(s) sent are not fields")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/clients/", {"display_name": "Wren", "pronuns": "she/her"}),
        ("/api/v1/language-check/", {"text": "hello", "txt": "x"}),
    ],
)
def test_a_misspelt_field_is_a_400_naming_it_not_quietly_dropped(alice, path, body) -> None:
    response = alice.api.post(path, body, format="json")
    assert response.status_code == 400
    [misspelt] = set(body) - {"display_name", "text"}
    assert response.json()["errors"] == {
        misspelt: ["Not a field of this request; check its spelling."]
    }


def test_a_misspelt_passphrase_makes_no_unprotected_pdf(alice, persona_plan) -> None:
    from documents.models import PlanDocument

    plan = persona_plan("continuing")
    body = {"pasphrase": "kestrel-7", "wording_reviewed": True}
    response = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["pasphrase"]
    assert "kestrel" not in response.content.decode()
    assert not PlanDocument.objects.exists()
    # Nor one sent in the address instead of the body.
    in_url = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/?passphrase=kestrel-7",
        {"copy": "client"},
        format="json",
    )
    assert in_url.status_code == 400
    assert list(in_url.json()["errors"]) == ["passphrase"]
    assert "kestrel" not in in_url.content.decode()
    assert not PlanDocument.objects.exists()
    # A response's read-only fields sent back are not unknown (a client round-trips an object).
    client = alice.api.post("/api/v1/clients/", {"display_name": "Ash"}, format="json").json()
    client.pop("care_team")  # (writable by clinic admins only)
    again = alice.api.patch(f"/api/v1/clients/{client['id']}/", client, format="json")
    assert again.status_code == 200


def test_body_errors_are_declared_for_every_write_and_answered_in_that_shape(alice) -> None:
    """A generated client types 411, 413 and 415 on every write (they were undeclared, so a
    generated client raised instead of returning the error), and the answers have that shape."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("post", "put", "patch") and path.startswith("/api/"):
                assert {"411", "413", "415"} <= set(operation["responses"]), (method, path)
    not_json = alice.api.post("/api/v1/clients/", "display_name=x", content_type="text/plain")
    too_big = alice.api.post("/api/v1/language-check/", {"text": "x" * 300_000}, format="json")
    for response, status in ((not_json, 415), (too_big, 413)):
        assert response.status_code == status
        assert set(response.json()) == {"code", "detail", "errors"}


def test_query_parameters_the_api_reads_are_in_the_schema() -> None:
    """A generated client can pass what the API takes: the form's language, a FHIR search by
    EHR id or by id, and the FHIR format."""
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    def names(path: str) -> set[str]:
        return {p["name"] for p in paths[path]["get"].get("parameters", [])}

    assert "lang" in names("/api/v1/forms/{kind}/")
    assert {"identifier", "_id", "_format", "patient"} <= names("/fhir/{resource_type}")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"goals": {"client_words": "x"}}, "goals", "Send a list."),
        ({"goals": "x"}, "goals", "Send a list."),
        ({"supports": "x"}, "supports", "Send a list."),
        ({"goals": [1]}, "goals.0", "Send a JSON object."),
        ({"goals": [{"client_words": "x", "steps": {"x": 1}}]}, "goals.0.steps", "Send a list."),
        ({"agreement": []}, "agreement", "Send a JSON object."),
    ],
)
def test_a_value_of_the_wrong_shape_names_the_field_sent(
    alice, persona_plan, body, field, message
) -> None:
    """A list where an object goes (or the reverse) is named by the field that was sent, in
    this API's words; never a made-up key such as "goals.non_field_errors"."""
    plan = persona_plan("continuing")
    etag = alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"]
    response = alice.api.patch(f"/api/v1/plans/{plan.pk}/", body, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"agreement": {"client_descision": "agrees"}}, "agreement.client_descision"),
        (
            {"agreement": {"client_decision": "agrees", "client_signed_nam": "Wren"}},
            "agreement.client_signed_nam",
        ),
        ({"goals": [{"id": "GOAL", "clinical_restatment": "x"}]}, "goals.0.clinical_restatment"),
        (
            {"goals": [{"id": "GOAL", "steps": [{"description": "x", "whoo": "client"}]}]},
            "goals.0.steps.0.whoo",
        ),
        ({"strengths": [{"source": "coping", "code": "x", "note": "y"}]}, "strengths.0.note"),
    ],
)
def test_a_misspelt_field_inside_a_plan_is_a_400_naming_it(
    alice, persona_plan, body, field
) -> None:
    """Nested as at the top: a misspelt name is never quietly dropped (an agreement recorded
    without its signature, a decision not recorded at all) and nothing is saved."""
    plan = persona_plan("continuing")
    before = alice.api.get(f"/api/v1/plans/{plan.pk}/")
    goal = str(plan.goals.first().pk)
    sent = json.loads(json.dumps(body).replace("GOAL", goal))
    response = alice.api.patch(
        f"/api/v1/plans/{plan.pk}/", sent, format="json", HTTP_IF_MATCH=before["ETag"]
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        field: ["Not a field of this request; check its spelling."]
    }
    assert alice.api.get(f"/api/v1/plans/{plan.pk}/").json() == before.json()


def test_a_misspelt_field_in_a_review_is_a_400_naming_it(alice, persona_plan) -> None:
    plan = persona_plan("continuing")
    goal = str(plan.goals.first().pk)
    body = {"goals": [{"goal": goal, "progress": 1, "clent_note": "typo"}]}
    response = alice.api.post(f"/api/v1/plans/{plan.pk}/reviews/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["goals.0.clent_note"]


def test_a_goal_sent_twice_in_one_save_is_a_400(alice, persona_plan) -> None:
    plan = persona_plan("continuing")
    etag = alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"]
    goal = str(plan.goals.first().pk)
    body = {"goals": [{"id": goal}, {"id": goal, "clinical_restatement": "second"}]}
    response = alice.api.patch(f"/api/v1/plans/{plan.pk}/", body, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "goals.0.id": ["This goal is sent twice in one save."],
        "goals.1.id": ["This goal is sent twice in one save."],
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("patch", "PLAN"),
        ("post", "/api/v1/clients/"),
        ("post", "DOCUMENTS"),
    ],
)
def test_a_name_that_is_not_field_shaped_is_counted_never_repeated(
    alice, persona_plan, method, path
) -> None:
    """One rule across the API (the step API's): a name shaped like a field is named back; any
    other name (a sentence, markup, 13 KB) could be the client's words and is only counted."""
    plan = persona_plan("continuing")
    path = path.replace("PLAN", f"/api/v1/plans/{plan.pk}/").replace(
        "DOCUMENTS", f"/api/v1/plans/{plan.pk}/documents/"
    )
    body = {MARK * 50: 1, "<script>alert(1)</script>": 1, "display_name": "Wren"}
    extra = {"HTTP_IF_MATCH": alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"]}
    response = getattr(alice.api, method)(path, body, format="json", **extra)
    assert response.status_code == 400
    text = response.content.decode()
    assert MARK not in text
    assert "script" not in text
    assert len(text) < 400
    assert response.json()["errors"]["non_field_errors"][0].startswith("2 name(s) sent are not")


def test_small_wrong_inputs_are_said_in_this_apis_words(
    alice, admin_ann, alices_client, persona_plan
) -> None:
    """A goal id sent as a number is a wrong type (DRF read 5 as a UUID); a referral agency's
    flag says "Send true or false." as every other; a number too long for Python is said
    without Python's advice; an option ticked twice is stored once."""
    plan = persona_plan("continuing")
    etag = alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"]
    number = alice.api.patch(
        f"/api/v1/plans/{plan.pk}/", {"goals": [{"id": 5}]}, format="json", HTTP_IF_MATCH=etag
    )
    assert number.json()["errors"] == {"goals.0.id": ["Must be a valid UUID."]}
    agency = admin_ann.api.post(
        "/api/v1/referral-agencies/", {"name": "Harbour", "peer_led": "yes"}, format="json"
    )
    assert agency.status_code == 400
    assert agency.json()["errors"] == {"peer_led": ["Send true or false."]}
    long = alice.api.post(
        "/api/v1/clients/",
        '{"display_name": ' + "9" * 5000 + "}",
        content_type="application/json",
    )
    assert long.status_code == 400
    assert "sys." not in long.content.decode()
    assert "too long" in long.json()["detail"]
    intake = alice.api.post(
        "/api/v1/intakes/", {"client": str(alices_client.pk), "kind": "individual"}, format="json"
    ).json()
    url = f"/api/v1/intakes/{intake['id']}/steps/"
    consent = {"confidentiality_explained": True, "recording_preference": "full"}
    assert alice.api.put(url + "consent/", consent, format="json").status_code == 200
    alice.api.put(url + "about/", {"work_focus": "central"}, format="json")
    saved = alice.api.put(url + "work_context/", {"work_types": ["porn", "porn"]}, format="json")
    assert saved.status_code == 200
    assert saved.json()["answers"]["work_context"]["work_types"] == ["porn"]
