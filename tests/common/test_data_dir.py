"""DATA_DIR is private to the service's user: the folder 0700, everything written in it 0600."""

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.conftest import BACKEND, REPO

WRITE_EVERYTHING = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from config.celery import app
default_storage.save("documents/x.pdf", ContentFile(b"%PDF-"))
with app.connection_for_write() as conn:
    conn.SimpleQueue("celery").put({"id": "only-an-id"})
"""


def test_the_embedded_data_dir_and_its_files_are_private(tmp_path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)  # as an older version left it
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATA_DIR=str(data),
        PYTHONPATH=os.pathsep.join([str(BACKEND), str(REPO)]),
    )
    for argv in (["migrate", "--noinput", "-v0"], ["shell", "-c", WRITE_EVERYTHING]):
        subprocess.run(
            [sys.executable, "manage.py", *argv], cwd=BACKEND, env=env, check=True, timeout=300
        )
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"db.sqlite3", ".secret_key", ".field_keys", "x.pdf"} <= names
    assert any(p.suffix == ".msg" for p in files)
    loose = {str(p.relative_to(data)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
    assert {k: v for k, v in loose.items() if v != "0o600"} == {}
    folders = [p for p in data.rglob("*") if p.is_dir()]
    assert {
        str(p.relative_to(data)): oct(stat.S_IMODE(p.stat().st_mode))
        for p in folders
        if stat.S_IMODE(p.stat().st_mode) != 0o700
    } == {}
    assert Path(data / "db.sqlite3").exists()


def _settings_in(env_extra: dict[str, str], expr: str) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DEBUG", "SECURE_COOKIES", "DEMO"}
    }
    env.update(env_extra, PYTHONPATH=os.pathsep.join([str(BACKEND), str(REPO)]))
    code = f"import django; django.setup(); from django.conf import settings; print({expr})"
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BACKEND,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip()


def test_secure_cookies_follow_https_not_the_database(tmp_path) -> None:
    services = {
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://u:p@127.0.0.1:1/x",
        "SECRET_KEY": "k" * 50,
    }
    expr = "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.DEMO"
    assert _settings_in(services, expr) == "True True False"
    plain_http = {**services, "SECURE_COOKIES": "false"}
    assert _settings_in(plain_http, expr) == "False False False"
    assert _settings_in({"DATA_DIR": str(tmp_path / "e")}, expr) == "False False True"
