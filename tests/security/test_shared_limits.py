"""Issue 11 items 10 and 11: rate limits live in a cache every process shares, and failed
sign-ins are limited per address across usernames."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client as Browser

from tests.conftest import BACKEND, REPO, make_persona

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def test_the_cache_is_shared_across_processes() -> None:
    backend = settings.CACHES["default"]["BACKEND"]
    assert backend in ("common.cache.AtomicDatabaseCache", "common.cache.FailOpenRedisCache")
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]


def _in_another_process(code: str) -> str:
    """Run Django code in a separate Python process on the test database (as another gunicorn
    worker would); its last line of output."""
    import os

    from django.db import connection

    env_code = (
        "import os,django;"
        "os.environ['DJANGO_SETTINGS_MODULE']='config.settings_test';"
        f"os.environ['WORKER_DATABASE_NAME']={str(connection.settings_dict['NAME'])!r};"
        "django.setup();" + code
    )
    out = subprocess.run(
        [sys.executable, "-c", env_code],
        cwd=BACKEND,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(BACKEND), str(REPO)])},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def test_rate_limit_counts_are_seen_by_another_process(transactional_db, alice) -> None:
    """A request counted here is visible to a separate Python process (as another gunicorn
    worker would be), so the limit holds across workers."""
    from common.throttling import UserRateThrottle

    assert alice.api.get("/api/v1/me").status_code == 200
    throttle = UserRateThrottle()
    key = throttle.cache_format % {"scope": "user", "ident": alice.user.pk}
    window = int(throttle.timer() // throttle.duration)
    keys = [f"{key}:{window - 1}", f"{key}:{window}"]  # (a minute may have turned meanwhile)
    code = f"from django.core.cache import cache;print(sum(cache.get(k) or 0 for k in {keys!r}))"
    assert _in_another_process(code) == "1"


def test_requests_at_the_same_time_in_several_processes_are_all_counted(
    transactional_db, alice
) -> None:
    """Four processes (as gunicorn workers), eight threads each, asking at the same moment:
    exactly the limit is let through, none more (a read-then-write counter let them all)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    start = time.time() + 4  # once every process is up
    code = (
        "import time;from concurrent.futures import ThreadPoolExecutor;"
        "from types import SimpleNamespace;from django.contrib.auth.models import User;"
        "from common.throttling import UserRateThrottle;"
        "UserRateThrottle.THROTTLE_RATES={'user':'50/day'};"
        f"user=User.objects.get(pk={alice.user.pk});"
        f"time.sleep(max({start}-time.time(),0));"
        "ask=lambda _: UserRateThrottle().allow_request(SimpleNamespace(user=user),None);"
        "print(sum(ThreadPoolExecutor(8).map(ask,range(40))))"
    )
    with ThreadPoolExecutor(4) as pool:
        allowed = list(pool.map(lambda _: int(_in_another_process(code)), range(4)))
    assert sum(allowed) == 50, allowed


def test_the_api_rate_limit_refuses_past_the_rate(alice, settings, monkeypatch) -> None:
    from common.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min"})
    monkeypatch.setattr(UserRateThrottle, "timer", lambda self: 1_800_000_010.0)  # one window
    codes = [alice.api.get("/api/v1/me").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = alice.api.get("/api/v1/me")
    assert refused["Retry-After"] == "50"  # seconds left in the window
    fhir = alice.api.get("/fhir/CarePlan")
    assert (fhir.status_code, fhir["Retry-After"]) == (429, "50")


def test_password_spraying_from_one_address_is_stopped(alice, settings) -> None:
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    # Many usernames, two tries each: no single username reaches the per-user lockout of 5.
    others = [make_persona(alice.clinic) for _ in range(3)]
    browser = Browser()
    for persona in others:
        for _ in range(2):
            response = browser.post(
                "/login/", {"username": persona.user.username, "password": "Spring2026!"}
            )
            assert response.status_code == 200
    # Now even the right password for a fresh username is refused from this address...
    refused = browser.post("/login/", {"username": alice.user.username, "password": PASSWORD})
    assert refused.status_code == 429
    assert "_auth_user_id" not in browser.session
    # ...while another address signs in normally.
    elsewhere = Browser(REMOTE_ADDR="10.9.8.7")
    ok = elsewhere.post("/login/", {"username": alice.user.username, "password": PASSWORD})
    assert ok.status_code == 302


def test_the_api_goes_on_when_the_redis_cache_is_unreachable(alice, settings) -> None:
    """Limits fail open: with Redis gone (a restart), requests are served, not refused."""
    from django.core.cache import caches

    settings.CACHES = {  # Django resets its cache handlers when this setting changes
        "default": {
            "BACKEND": "common.cache.FailOpenRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    cache = caches["default"]
    assert cache.get("k", "default") == "default"
    assert cache.add("k", 1) is True
    response = alice.api.get("/api/v1/me")
    assert response.status_code == 200
