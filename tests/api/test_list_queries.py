"""Every list endpoint runs a fixed number of queries, whatever the page size."""

import pytest
from webhooks.models import WebhookEndpoint

from audit.services import audit_record
from referrals.models import ReferralAgency
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def grow(clinic, n: int) -> None:
    for i in range(n):
        client = ClientFactory(clinic=clinic)
        ReferralAgency.objects.create(clinic=clinic, name=f"Agency {i}", services=["legal"])
        WebhookEndpoint.objects.create(
            clinic=clinic, url=f"https://h{i}.example/hook", secret="s", events=["plan.agreed"]
        )
        audit_record(
            actor=None, clinic_id=clinic.pk, action="read", obj=client, client_id=client.pk
        )


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/clients/",
        "/api/v1/referral-agencies/",
        "/api/v1/audit-events/",
        "/api/v1/webhooks/",
    ],
)
def test_query_count_is_constant_in_list_size(
    admin_ann, path, django_assert_max_num_queries, django_assert_num_queries
) -> None:
    grow(admin_ann.clinic, 2)
    # (The rate limit's first request in a window begins its counter: one query more.)
    assert admin_ann.api.get("/api/v1/me").status_code == 200
    with django_assert_max_num_queries(20) as small:
        assert admin_ann.api.get(path).status_code == 200
    grow(admin_ann.clinic, 25)
    with django_assert_num_queries(len(small.captured_queries)):
        assert admin_ann.api.get(path).status_code == 200
