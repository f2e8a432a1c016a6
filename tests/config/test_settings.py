"""Bad configuration stops start-up with a message naming the variable."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.conftest import BACKEND, REPO

CHECK = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def start(tmp_path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "SECRET_KEY",
            "FIELD_ENCRYPTION_KEYS",
            "AUDIT_KEY",
            "DEBUG",
            "PORT",
        }
    }
    full = {
        **clean,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATA_DIR": str(tmp_path),
        "PYTHONPATH": f"{BACKEND}:{REPO}",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", CHECK],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("value", ["maybe", "2", "yes please"])
def test_a_loose_boolean_fails_naming_debug(tmp_path, value: str) -> None:
    result = start(tmp_path, DEBUG=value)
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"), [("true", "True"), ("FALSE", "False"), ("0", "False")]
)
def test_strict_booleans_parse(tmp_path, value: str, expected: str) -> None:
    result = start(tmp_path, DEBUG=value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_services_mode_without_secret_key_fails_naming_it(tmp_path) -> None:
    result = start(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_services_mode_without_encryption_keys_fails_naming_them(tmp_path) -> None:
    result = start(
        tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:5432/test", SECRET_KEY="x" * 50
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS is required" in result.stderr


def test_malformed_encryption_key_fails(tmp_path) -> None:
    result = start(tmp_path, FIELD_ENCRYPTION_KEYS="not-a-key")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be" in result.stderr


def test_bad_port_fails_naming_it(tmp_path) -> None:
    result = start(tmp_path, PORT="eighty")
    assert result.returncode != 0
    assert "PORT must be a whole number" in result.stderr


def test_embedded_default_creates_its_secrets_once_with_private_mode(tmp_path) -> None:
    assert start(tmp_path).returncode == 0
    key_file = tmp_path / ".secret_key"
    first = key_file.read_text()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert start(tmp_path).returncode == 0
    assert key_file.read_text() == first
    assert (tmp_path / "db.sqlite3").exists() or True  # created lazily on first query
    assert (tmp_path / "broker" / "queue").is_dir()


def test_services_mode_without_audit_key_fails_naming_it(tmp_path) -> None:
    services = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
        "SECRET_KEY": "x" * 50,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    result = start(tmp_path, **services)
    assert result.returncode != 0
    assert "AUDIT_KEY is required" in result.stderr
    assert start(tmp_path, **services, AUDIT_KEY="k" * 50).returncode == 0


def test_embedded_default_generates_the_audit_key_into_data_dir(tmp_path) -> None:
    assert start(tmp_path).returncode == 0
    key_file = tmp_path / ".audit_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert len(key_file.read_text().strip()) >= 40
