"""Test overrides only. DATA_DIR defaults to a fresh temporary folder shared with worker processes."""

import os
import tempfile

os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="intake-test-"))

from .settings import *  # noqa: E402,F403
from .settings import DATA_DIR, DATABASES  # noqa: E402

# A file, not :memory:, so that a real worker process can open the same test database.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"user": "100000/min"}  # noqa: F405
