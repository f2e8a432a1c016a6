"""Clients over the API: scoped to the caller's clinic; outsiders see nothing."""

import uuid

import pytest

from clients.models import Client
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_create_returns_id_and_keeps_the_chosen_name(alice) -> None:
    response = alice.api.post(
        "/api/v1/clients/", {"display_name": "Moss", "pronouns": "she/her"}, format="json"
    )
    assert response.status_code == 201
    client = Client.objects.get(pk=response.json()["id"])
    assert (client.display_name, client.clinic_id) == ("Moss", alice.clinic.pk)


def test_colleague_sees_the_client(alice, bob, alices_client) -> None:
    response = bob.api.get(f"/api/v1/clients/{alices_client.pk}/")
    assert response.status_code == 200
    assert response.json()["display_name"] == "River"


def test_outsider_gets_404_on_detail_edit_and_erase(charlie, alices_client) -> None:
    url = f"/api/v1/clients/{alices_client.pk}/"
    assert charlie.api.get(url).status_code == 404
    assert charlie.api.patch(url, {"display_name": "x"}, format="json").status_code == 404
    assert charlie.api.delete(url).status_code == 404
    assert Client.objects.get(pk=alices_client.pk).display_name == "River"


def test_outsider_list_is_empty(charlie, alices_client) -> None:
    response = charlie.api.get("/api/v1/clients/")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_list_query_count_does_not_grow_with_clients(alice, django_assert_max_num_queries) -> None:
    ClientFactory.create_batch(3, clinic=alice.clinic)
    with django_assert_max_num_queries(20) as small:
        alice.api.get("/api/v1/clients/")
    ClientFactory.create_batch(30, clinic=alice.clinic)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = alice.api.get("/api/v1/clients/")
    assert len(response.json()["results"]) == 33


def test_without_credentials_401(client, alices_client) -> None:
    assert client.get("/api/v1/clients/").status_code == 401


def test_read_only_token_cannot_write(alice, alices_client) -> None:
    from tests.conftest import make_persona

    reader = make_persona(alice.clinic, scopes=["read"])
    assert reader.api.get(f"/api/v1/clients/{alices_client.pk}/").status_code == 200
    response = reader.api.patch(
        f"/api/v1/clients/{alices_client.pk}/", {"pronouns": "he/him"}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_name": ""}, "display_name"),
        ({"display_name": "x" * 101}, "display_name"),
        ({"display_name": 12}, "display_name"),
        ({"display_name": "ok", "pronouns": ["a"]}, "pronouns"),
        ({"display_name": "nul\x00byte"}, "display_name"),
    ],
)
def test_bad_input_is_400_naming_the_field(alice, body, field) -> None:
    response = alice.api.post("/api/v1/clients/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_non_uuid_and_unknown_ids_are_404(alice) -> None:
    assert alice.api.get("/api/v1/clients/not-a-uuid/").status_code == 404
    assert alice.api.get(f"/api/v1/clients/{uuid.uuid4()}/").status_code == 404


def test_malformed_json_is_400(alice) -> None:
    response = alice.api.generic(
        "POST", "/api/v1/clients/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_updated_since_filters_and_rejects_nonsense(alice, alices_client) -> None:
    assert alice.api.get("/api/v1/clients/?updated_since=yesterday").status_code == 400
    later = alice.api.get("/api/v1/clients/?updated_since=2999-01-01T00:00:00Z").json()
    assert later["results"] == []
    earlier = alice.api.get("/api/v1/clients/?updated_since=2000-01-01T00:00:00Z").json()
    assert [c["id"] for c in earlier["results"]] == [str(alices_client.pk)]


def test_erase_removes_the_client(alice, alices_client) -> None:
    assert alice.api.delete(f"/api/v1/clients/{alices_client.pk}/").status_code == 204
    assert not Client.objects.filter(pk=alices_client.pk).exists()


def test_an_ehr_id_belongs_to_one_client_in_a_clinic(alice, charlie) -> None:
    body = {"display_name": "Wren", "external_id": "EHR-9"}
    first = alice.api.post("/api/v1/clients/", body, format="json")
    assert first.status_code == 201
    again = alice.api.post("/api/v1/clients/", {**body, "display_name": "Ash"}, format="json")
    assert again.status_code == 400
    assert list(again.json()["errors"]) == ["external_id"]
    assert "EHR-9" not in again.content.decode()
    other = alice.api.post("/api/v1/clients/", {"display_name": "Ash"}, format="json").json()
    moved = alice.api.patch(
        f"/api/v1/clients/{other['id']}/", {"external_id": "EHR-9"}, format="json"
    )
    assert moved.status_code == 400
    # The client's own id again is no conflict, and another clinic may use the same EHR id.
    same = alice.api.patch(
        f"/api/v1/clients/{first.json()['id']}/", {"external_id": "EHR-9"}, format="json"
    )
    assert same.status_code == 200
    assert charlie.api.post("/api/v1/clients/", body, format="json").status_code == 201
    listed = alice.api.get("/api/v1/clients/", {"external_id": "EHR-9"}).json()["results"]
    assert [c["id"] for c in listed] == [first.json()["id"]]


def test_the_care_team_is_declared_where_it_is_returned(alice) -> None:
    schema = alice.api.get("/api/v1/schema/?format=json").json()
    assert "care_team" in schema["components"]["schemas"]["Client"]["properties"]
    created = alice.api.post("/api/v1/clients/", {"display_name": "Wren"}, format="json").json()
    assert created["care_team"] == [alice.user.username]
