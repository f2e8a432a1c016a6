"""docker-compose.yml, Dockerfile and .dockerignore, checked without Docker (not available in
CI): the file parses, every service restarts, migrations run once before the app starts, secrets
stay in env files and only where needed, the image is two-stage and runs as a non-root user, and
the commands are the ones the native run uses."""

import shlex
from pathlib import Path

import yaml

from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP = ("migrate", "web", "worker", "beat")


def test_every_long_running_service_restarts_and_migrate_runs_once() -> None:
    for name, service in SERVICES.items():
        expected = "no" if name == "migrate" else "unless-stopped"
        assert service.get("restart") == expected, name
    assert SERVICES["migrate"]["command"] == ["python", "backend/manage.py", "migrate", "--noinput"]
    for name in ("web", "worker", "beat"):
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert "migrate" not in str(SERVICES[name].get("command", "")), name


def test_secrets_come_from_env_files_and_the_password_only_where_needed() -> None:
    for name in APP:
        assert SERVICES[name]["env_file"] == ".env"
        assert "POSTGRES_PASSWORD" not in str(SERVICES[name])
    assert SERVICES["postgres"]["env_file"] == "postgres.env"
    assert "env_file" not in SERVICES["redis"]
    assert "DATABASE_URL" not in str(SERVICES["redis"]) + str(SERVICES["postgres"])
    for example in (".env.example", "postgres.env.example"):
        assert "change-me" in (REPO / example).read_text()
    assert "POSTGRES_PASSWORD" not in (REPO / ".env.example").read_text()


def test_web_liveness_is_separate_from_worker_health() -> None:
    web = " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "/healthz?live=1" in web
    worker = " ".join(SERVICES["worker"]["healthcheck"]["test"])
    assert "inspect ping" in worker
    assert "-d celery@$$HOSTNAME" in worker


def test_worker_and_beat_run_the_native_commands() -> None:
    worker = shlex.split(SERVICES["worker"]["command"])
    assert worker[:4] == ["celery", "-A", "config", "worker"]
    assert SERVICES["worker"]["working_dir"] == "/app/backend"  # where `celery -A config` runs
    assert "replicas" not in str(SERVICES["worker"])  # scaled with --scale worker=N
    beat = SERVICES["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "config", "beat"]
    assert "deploy" not in SERVICES["beat"]  # exactly one beat


def test_the_image_is_two_stage_non_root_and_without_local_secrets() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert dockerfile.count("\nFROM ") + dockerfile.startswith("FROM ") >= 2
    assert "AS build" in dockerfile
    assert "COPY --from=build" in dockerfile
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users
    assert users[-1] not in {"root", "0"}
    assert "COPY . ." not in dockerfile
    ignored = {
        line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip()
    }
    assert {".env", ".venv/", ".git/", "var/", "node_modules/"} <= ignored
    assert "SECRET_KEY" not in dockerfile
    assert "ENV FIELD_ENCRYPTION_KEYS" not in dockerfile


def test_the_gunicorn_options_exist_in_this_gunicorn() -> None:
    import subprocess
    import sys

    bindir = Path(sys.executable).parent
    help_text = subprocess.run(
        [str(bindir / "gunicorn"), "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in ("--no-control-socket", "--worker-tmp-dir", "--access-logformat"):
        assert option in help_text
