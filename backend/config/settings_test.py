"""Test overrides only. DATA_DIR defaults to a fresh temporary folder, shared with workers."""

import os
import tempfile

from cryptography.fernet import Fernet

os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="intake-test-"))
# Services mode requires explicit secrets; tests make throwaway ones (inherited by workers).
os.environ.setdefault("SECRET_KEY", "test-only-" + Fernet.generate_key().decode())
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("AUDIT_KEY", "test-only-" + Fernet.generate_key().decode())

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
API_TOKEN_FAILURES_PER_MINUTE = 100000  # the test that counts them sets its own
