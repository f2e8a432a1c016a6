"""Test overrides only. DATA_DIR defaults to a fresh temporary folder, shared with workers."""

import os
import tempfile

os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="intake-test-"))

from .settings import *  # noqa: F403
from .settings import DATA_DIR, DATABASES

# A file, not :memory:, so that a real worker process can open the same test database.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

# A worker process started by the tests opens the test database, not the real one.
if os.environ.get("WORKER_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["WORKER_DATABASE_NAME"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"user": "100000/min"}  # noqa: F405
