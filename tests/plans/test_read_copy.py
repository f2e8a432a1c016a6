"""The plan's read copy: a read of an unchanged plan is served from one encrypted row, and no
change of any kind (API, web editor, agreement, review, a directory edit, erasure, a new
deploy) ever leaves an old copy being served."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plans import selectors
from plans.models import PlanReadCopy

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(persona_plan):
    return persona_plan("continuing")


def url(plan) -> str:
    return f"/api/v1/plans/{plan.pk}/"


def read(persona, plan):
    response = persona.api.get(url(plan))
    assert response.status_code == 200
    return response.json(), response["ETag"]


def patch(persona, plan, body):
    etag = persona.api.get(url(plan))["ETag"]
    response = persona.api.patch(url(plan), body, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.json()
    return response


def goal_queries(queries) -> list:
    return [q for q in queries if 'FROM "plans_plangoal"' in q["sql"]]


def test_an_unchanged_plan_is_read_from_its_copy_with_the_same_answer(alice, plan) -> None:
    first, etag = read(alice, plan)
    with CaptureQueriesContext(connection) as queries:
        second, again = read(alice, plan)
    assert (second, again) == (first, etag)
    assert not goal_queries(queries)  # no goal, step or referral was loaded


def test_the_copy_is_encrypted_at_rest(alice, plan) -> None:
    read(alice, plan)
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM plans_planreadcopy")
        (raw,) = cursor.fetchone()
    assert "Feel less drained" not in raw
    assert PlanReadCopy.objects.get().body["goals"][0]["client_words"] == (
        "Feel less drained after shifts"
    )


def test_an_api_edit_is_seen_by_the_next_read(alice, bob, plan) -> None:
    plan.client.care_team.add(bob.user)
    read(bob, plan)
    patch(alice, plan, {"safety_plan": "Call Jo first", "goals": [{"client_words": "Sleep"}]})
    body, _ = read(bob, plan)
    assert body["safety_plan"] == "Call Jo first"
    assert [g["client_words"] for g in body["goals"]] == ["Sleep"]  # the list sent is the list


def test_the_patch_answer_and_the_next_read_agree(alice, plan) -> None:
    answer = patch(alice, plan, {"supports_notes": "Her sister"})
    body, etag = read(alice, plan)
    assert (answer.json(), answer["ETag"]) == (body, etag)


def test_an_agreement_is_seen_by_the_next_read(alice, plan) -> None:
    read(alice, plan)
    patch(alice, plan, {"agreement": {"client_decision": "agrees"}})
    body, _ = read(alice, plan)
    assert body["agreement"]["client_decision"] == "agrees"
    assert [v["version"] for v in body["versions"]] == [1]


def test_an_edit_in_the_web_editor_is_seen_by_the_next_read(alice, plan) -> None:
    from plans.services import plan_update

    read(alice, plan)
    plan_update(plan=plan, actor=alice.user, changes={"review_date": "2027-01-15"})
    assert read(alice, plan)[0]["review_date"] == "2027-01-15"


def test_renaming_an_agency_moves_the_plans_that_refer_to_it_on(alice, admin_ann, plan) -> None:
    agency = admin_ann.api.post(
        "/api/v1/referral-agencies/", {"name": "Peer Line"}, format="json"
    ).json()
    patch(alice, plan, {"referrals": [{"agency": agency["id"], "client_decision": "undecided"}]})
    before, etag = read(alice, plan)
    assert before["referrals"][0]["name"] == "Peer Line"
    renamed = admin_ann.api.patch(
        f"/api/v1/referral-agencies/{agency['id']}/", {"name": "Peer Line North"}, format="json"
    )
    assert renamed.status_code == 200
    after, new_etag = read(alice, plan)
    assert after["referrals"][0]["name"] == "Peer Line North"
    assert new_etag != etag  # an If-Match from before the rename is stale, as it should be


def test_a_copy_from_other_code_or_another_language_is_not_served(alice, plan, monkeypatch) -> None:
    read(alice, plan)
    PlanReadCopy.objects.update(body={"goals": [], "stale": True})  # stamp unchanged
    assert read(alice, plan)[0]["stale"] is True  # the stamp alone decides: it is this copy
    monkeypatch.setattr(selectors, "_CODE_DIGEST", "a new deploy")
    body, _ = read(alice, plan)
    assert "stale" not in body
    assert body["goals"][0]["client_words"] == "Feel less drained after shifts"
    PlanReadCopy.objects.update(body={"stale": True})
    from django.utils import translation

    with translation.override("es"):
        stamp_es = selectors._read_stamp('"1-0"')
    assert stamp_es != selectors._read_stamp('"1-0"')


def test_erasing_the_client_erases_the_copy(alice, plan) -> None:
    read(alice, plan)
    assert PlanReadCopy.objects.count() == 1
    assert alice.api.delete(f"/api/v1/clients/{plan.client_id}/").status_code == 204
    assert PlanReadCopy.objects.count() == 0


def test_every_read_is_audited_even_from_the_copy(alice, plan) -> None:
    from audit.models import AuditEvent

    read(alice, plan)
    before = AuditEvent.objects.filter(object_id=str(plan.pk), action="read").count()
    read(alice, plan)
    assert AuditEvent.objects.filter(object_id=str(plan.pk), action="read").count() == before + 1
