"""The web's error pages, as a person sees them: a way back, the quick exit, and nothing of
the address (ids) or of the error echoed."""

import uuid

import pytest
from django.test import Client as Browser

from common.errors import server_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/no-such-page/", "/intakes/{id}/", "/plans/{id}/"])
def test_a_page_not_found_has_a_way_back_and_the_quick_exit(alice, path) -> None:
    browser = Browser()
    browser.force_login(alice.user)
    missing = str(uuid.uuid4())
    response = browser.get(path.format(id=missing))
    assert response.status_code == 404
    page = response.content.decode()
    assert "This page is not here" in page
    assert 'href="/"' in page
    assert "Go to the start page" in page
    assert 'id="quick-exit"' in page
    assert missing not in page


def test_the_api_still_answers_404_in_its_own_shape(alice) -> None:
    response = alice.api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_server_error_page_has_a_way_back_and_the_quick_exit(rf) -> None:
    try:
        raise RuntimeError("a client's words, never shown")
    except RuntimeError:
        response = server_error(rf.get("/plans/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert 'href="/away/"' in page
    assert 'href="/"' in page
    assert "a client's words" not in page
