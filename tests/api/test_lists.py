"""REST lists (DESIGN "Interoperability"): intakes, plans and documents, scoped like reads."""

import pytest

from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def start(persona, client) -> str:
    response = persona.api.post(
        "/api/v1/intakes/", {"client": str(client.pk), "kind": "individual"}, format="json"
    )
    assert response.status_code == 201
    return response.json()["id"]


def test_intakes_list_filters_by_client_and_time_and_carries_no_answers(
    alice, alices_client
) -> None:
    other = ClientFactory(clinic=alice.clinic, created_by=alice.user)
    other.care_team.add(alice.user)
    mine = start(alice, alices_client)
    start(alice, other)
    alice.api.put(
        f"/api/v1/intakes/{mine}/steps/consent/",
        {"confidentiality_explained": True, "recording_preference": "full"},
        format="json",
    )
    listed = alice.api.get("/api/v1/intakes/", {"client": str(alices_client.pk)}).json()
    assert [row["id"] for row in listed["results"]] == [mine]
    assert "answers" not in listed["results"][0]
    everything = alice.api.get("/api/v1/intakes/").json()["results"]
    assert len(everything) == 2
    future = alice.api.get("/api/v1/intakes/", {"updated_since": "2999-01-01T00:00:00Z"})
    assert future.json()["results"] == []


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/intakes/", {"updated_since": "2026-01-01T00:00:00+99:99"}, "updated_since"),
        ("/api/v1/intakes/", {"updated_since": "yesterday"}, "updated_since"),
        ("/api/v1/intakes/", {"client": "not-an-id"}, "client"),
        ("/api/v1/plans/", {"updated_since": "2026-01-01T00:00:00"}, "updated_since"),
        ("/api/v1/documents/", {"plan": "x"}, "plan"),
    ],
)
def test_bad_filters_name_the_parameter(alice, path, params, field) -> None:
    response = alice.api.get(path, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_plans_and_documents_lists(alice, persona_plan, charlie) -> None:
    plan = persona_plan("continuing")
    plans = alice.api.get("/api/v1/plans/", {"client": str(plan.client_id)}).json()["results"]
    assert [p["id"] for p in plans] == [str(plan.pk)]
    assert "goals" not in plans[0]
    created = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/", format="json")
    assert created.status_code in (200, 202)
    docs = alice.api.get("/api/v1/documents/", {"plan": str(plan.pk)}).json()["results"]
    assert [d["id"] for d in docs] == [created.json()["id"]]
    # Another clinic's caller sees none of them.
    assert charlie.api.get("/api/v1/plans/").json()["results"] == []
    assert charlie.api.get("/api/v1/documents/").json()["results"] == []
    assert charlie.api.get("/api/v1/intakes/").json()["results"] == []


def test_an_intake_started_in_the_browser_is_listed(alice, alices_client) -> None:
    from django.test import Client as Browser

    browser = Browser()
    browser.force_login(alice.user)
    response = browser.post(
        "/intakes/start/", {"client": str(alices_client.pk), "kind": "individual"}
    )
    assert response.status_code == 302
    listed = alice.api.get("/api/v1/intakes/", {"client": str(alices_client.pk)}).json()
    assert len(listed["results"]) == 1


@pytest.mark.parametrize("path", ["/api/v1/intakes/", "/api/v1/plans/", "/api/v1/clients/"])
def test_an_unusual_but_valid_offset_is_not_a_server_error(alice, path) -> None:
    # Python accepts -18:16; PostgreSQL refuses offsets past 15:59 (seen as a 500 there).
    response = alice.api.get(path, {"updated_since": "2026-01-01T00:00:00-18:16"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/v1/intakes/", "/api/v1/plans/", "/api/v1/clients/", "/api/v1/documents/"]
)
@pytest.mark.parametrize(
    "raw",
    [
        "p=garbage",  # well-formed base64, a position that is no date
        "p=2026-13-45T00:00:00+00:00",
        "r=1&p=x",
        "p=2026-01-01T00:00:00",  # no time zone
        "p=2026-01-01T00:00:00-18:16",  # PostgreSQL refuses the offset as it is
        "o=abc",
    ],
)
def test_a_forged_cursor_is_a_400_naming_it(alice, path, raw) -> None:
    import base64

    cursor = base64.b64encode(raw.encode()).decode()
    response = alice.api.get(path, {"cursor": cursor})
    assert response.status_code in (200, 400), response.status_code
    if "18:16" in raw:  # valid, if unusual: the page after that moment
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["cursor"]
    assert raw not in response.content.decode()


@pytest.mark.parametrize("cursor", ["\x00", "!!!", "", "Zm9v"])  # "Zm9v": "foo"
def test_a_damaged_cursor_is_a_400_not_the_first_page_again(alice, cursor) -> None:
    response = alice.api.get("/api/v1/clients/", {"cursor": cursor})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["cursor"]


def test_a_real_cursor_still_pages(alice, clinic_a) -> None:
    for client in ClientFactory.create_batch(5, clinic=clinic_a):
        client.care_team.add(alice.user)
    first = alice.api.get("/api/v1/clients/", {"page_size": 2}).json()
    assert len(first["results"]) == 2
    second = alice.api.get(first["next"].split("testserver", 1)[-1]).json()
    assert {c["id"] for c in second["results"]}.isdisjoint({c["id"] for c in first["results"]})
    # Forward and back again: every link the API gives is taken.
    third = alice.api.get(second["next"].split("testserver", 1)[-1]).json()
    back = alice.api.get(third["previous"].split("testserver", 1)[-1])
    assert back.status_code == 200
    assert [c["id"] for c in back.json()["results"]] == [c["id"] for c in second["results"]]
    start = alice.api.get(second["previous"].split("testserver", 1)[-1])
    assert start.status_code == 200
    assert [c["id"] for c in start.json()["results"]] == [c["id"] for c in first["results"]]


@pytest.mark.parametrize("size", ["abc", "0", "-1", "201", "1.5", "", "\uff12", "2 "])
def test_a_page_size_out_of_range_or_not_a_number_is_a_400_naming_it(alice, size) -> None:
    """Not quietly the default page, nor quietly capped: the caller learns the range."""
    response = alice.api.get("/api/v1/clients/", {"page_size": size})
    assert response.status_code == 400
    assert response.json()["errors"] == {"page_size": ["Use a whole number from 1 to 200."]}


def test_page_sizes_in_range_are_given_and_the_schema_says_the_range(alice, clinic_a) -> None:
    from drf_spectacular.generators import SchemaGenerator

    for client in ClientFactory.create_batch(3, clinic=clinic_a):
        client.care_team.add(alice.user)
    for size, rows in (("1", 1), ("200", 3)):
        assert len(alice.api.get("/api/v1/clients/", {"page_size": size}).json()["results"]) == rows
    schema = SchemaGenerator().get_schema(request=None, public=True)
    [parameter] = [
        p
        for p in schema["paths"]["/api/v1/clients/"]["get"]["parameters"]
        if p["name"] == "page_size"
    ]
    assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) == (1, 200)


def test_documents_list_by_updated_since_sees_a_status_change(alice, persona_plan) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from documents.models import PlanDocument
    from documents.services import document_render

    plan = persona_plan("continuing")
    doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/", format="json").json()["id"]
    mark = (timezone.now() + timedelta(milliseconds=1)).isoformat()
    PlanDocument.objects.filter(pk=doc_id).update(updated_at=timezone.now() - timedelta(hours=1))
    assert alice.api.get("/api/v1/documents/", {"updated_since": mark}).json()["results"] == []
    assert document_render(document_id=doc_id, worker="test:1") == "ready"
    listed = alice.api.get("/api/v1/documents/", {"updated_since": mark}).json()["results"]
    assert [(d["id"], d["status"]) for d in listed] == [(doc_id, "ready")]
