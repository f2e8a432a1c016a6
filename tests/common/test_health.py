"""GET /healthz reports database, broker and worker; 503 names what is down."""

import pytest


@pytest.mark.django_db
def test_without_a_worker_it_is_503_naming_the_worker(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"database": "up", "broker": "up", "worker": "down"}
    assert body["down"] == ["worker"]


@pytest.mark.worker
def test_with_a_live_worker_it_is_200(client, worker) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "up", "broker": "up", "worker": "up"}
