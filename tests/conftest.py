"""Personas (healthchecks style): alice, a clinician; bob, her colleague in the same clinic;
charlie, an outsider in another clinic. Plus API clients with tokens, and a real worker."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Membership, Role
from accounts.services import ALL_SCOPES, api_token_create
from clients.models import Client
from tests.factories import ClientFactory, ClinicFactory, MembershipFactory

REPO = Path(__file__).resolve().parent.parent
BACKEND = REPO / "backend"


@dataclass
class Persona:
    membership: Membership
    api: APIClient
    token: str

    @property
    def user(self):
        return self.membership.user

    @property
    def clinic(self):
        return self.membership.clinic


def make_persona(clinic, role: str = Role.CLINICIAN, scopes: list[str] | None = None) -> Persona:
    membership = MembershipFactory(clinic=clinic, role=role)
    token = api_token_create(user=membership.user, scopes=scopes or ALL_SCOPES)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return Persona(membership=membership, api=api, token=token)


@pytest.fixture(autouse=True)
def _fresh_signin_limits(request):
    """The per-address sign-in counter lives in the shared cache, which outlives one test."""
    uses = [f for f in ("transactional_db", "db") if f in request.fixturenames]
    if not uses:
        yield
        return
    request.getfixturevalue(uses[0])
    from django.core.cache import cache

    from accounts.signin_limits import KEY

    cache.delete(KEY.format("127.0.0.1"))
    yield
    cache.delete(KEY.format("127.0.0.1"))


@pytest.fixture
def clinic_a():
    return ClinicFactory(name="Harbour Clinic")


@pytest.fixture
def alice(db, clinic_a) -> Persona:
    return make_persona(clinic_a)


@pytest.fixture
def bob(db, clinic_a) -> Persona:
    return make_persona(clinic_a)


@pytest.fixture
def admin_ann(db, clinic_a) -> Persona:
    return make_persona(clinic_a, role=Role.CLINIC_ADMIN)


@pytest.fixture
def charlie(db) -> Persona:
    return make_persona(ClinicFactory(name="Elsewhere Clinic"))


@pytest.fixture
def alices_client(alice: Persona) -> Client:
    client = ClientFactory(
        clinic=alice.clinic, display_name="River", pronouns="they/them", created_by=alice.user
    )
    client.care_team.add(alice.user)  # as client_create does for whoever creates the client
    return client


def _worker_env() -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "WORKER_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "PYTHONPATH": os.pathsep.join([str(BACKEND), str(REPO)]),
    }
    return env


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    env: dict[str, str]

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


def start_worker(
    concurrency: int = 1, name: str = "test", slow_render: float = 0, quiet: bool = False
) -> WorkerProcess:
    """A real `celery worker` process on the configured broker and the test database."""
    from config.celery import app

    env = _worker_env()
    node = f"{name}-{os.getpid()}-{time.monotonic_ns()}@{socket.gethostname()}"
    entry = ["-m", "celery"]
    if slow_render:
        env["SLOW_RENDER"] = str(slow_render)
        entry = ["-m", "tests.slow_worker"]
    process = subprocess.Popen(
        [
            sys.executable,
            *entry,
            "-A",
            "config",
            "worker",
            "--loglevel=WARNING",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
            f"--hostname={node}",
        ],
        cwd=BACKEND,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.DEVNULL if quiet else None,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited with {process.returncode}")
        # This worker's own answer: another worker already running must not count.
        if app.control.ping(destination=[node], timeout=0.5):
            return WorkerProcess(process=process, env=env)
    process.kill()
    raise RuntimeError("celery worker did not answer a ping within 60 s")


def stop_worker(worker: WorkerProcess, *, graceful: bool = False) -> None:
    """End a test's worker. At the end of a test nothing of it is left to finish (its tests
    wait for what they check), so the worker is killed, not shut down warm: a warm shutdown
    takes some 6 s here (the worker's loop waits out its broker poll, then the pool), about
    3 minutes of every suite run. `graceful`: the warm shutdown, for what it does itself."""
    if graceful and worker.process.poll() is None:
        worker.process.terminate()
        try:
            worker.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    # Pool children left behind (a main process killed, or stuck on a lost broker) would go on
    # taking later tests' messages: the worker runs in its own session, so end the whole group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=30)


@pytest.fixture
def worker(transactional_db) -> Iterator[WorkerProcess]:
    """A worker for one test; the test's data is committed so the worker can see it."""
    from config.celery import app

    app.control.purge()
    proc = start_worker()
    try:
        yield proc
    finally:
        stop_worker(proc)


def take_private_checks(intake, actor, **answers) -> None:
    """The clinician takes each partner's private check with them alone (the couple's work
    questions wait for both)."""
    from forms import PRIVATE_CHECK_STEPS, STEPS_BY_NAME
    from intake.services import intake_submit_step

    for name in PRIVATE_CHECK_STEPS:
        intake_submit_step(
            intake=intake,
            step=STEPS_BY_NAME[name],
            answers={"feels_safe": "yes", "pressure": "none", **answers},
            actor=actor,
        )


def completed_plan(persona: Persona, client: Client, kind: str, steps: dict):
    """Run a whole intake through the services (validated by forms/) and return its plan."""
    from forms import STEPS_BY_NAME, form_kwargs
    from forms.django_forms import validate_payload
    from intake.services import intake_complete, intake_start, intake_submit_step

    intake = intake_start(
        membership=persona.membership, actor=persona.user, client=client, kind=kind
    )
    if kind == "couple":  # each partner's private check, before any joint question about work
        take_private_checks(intake, persona.user)
    for name, payload in steps.items():
        answers = validate_payload(
            STEPS_BY_NAME[name],
            payload,
            **form_kwargs(kind, intake.answers, step=STEPS_BY_NAME[name]),
        )
        intake_submit_step(
            intake=intake, step=STEPS_BY_NAME[name], answers=answers, actor=persona.user
        )
    return intake_complete(intake=intake, actor=persona.user)


CONSENT = {"confidentiality_explained": True, "recording_preference": "full"}

PERSONAS = {
    # Work is not why they came: nothing about work may appear anywhere.
    "not_a_topic": (
        "individual",
        {
            "consent": CONSENT,
            "about": {"work_focus": "no", "work_term": "escorting"},
            "goals": {"client_goals": ["Get my sleep back", "Talk to my sister again"]},
            "stigma_coping": {"coping_strategies": ["humor", "future_focus"]},
            "supports": {
                "current_supports": ["friends"],
                "safety_plan": "Text Jo, walk by the river",
            },
            "reflection": {
                "reflection_notes": "PRIVATE-REFLECTION-TEXT",
                "consultation_wanted": True,
            },
        },
    ),
    # Continuing, with their own word for the work.
    "continuing": (
        "individual",
        {
            "consent": CONSENT,
            "about": {"work_focus": "central", "work_term": "cam work"},
            "goals": {"client_goals": ["Feel less drained after shifts"]},
            "work_context": {"work_types": ["webcam_online"]},
            "precautions": {"precautions_used": ["protecting_privacy", "peer_support"]},
            "stigma_coping": {"coping_strategies": ["role_differentiation"]},
            "work_plans": {"work_direction": "continue"},
            "supports": {"current_supports": ["peers"]},
        },
    ),
    # Chose to leave: the change section, as a process.
    "leaving": (
        "individual",
        {
            "consent": CONSENT,
            "about": {"work_focus": "part"},
            "goals": {"client_goals": ["Find steady work I like"]},
            "work_plans": {"work_direction": "leave"},
            "exit_planning": {
                "exit_stage": "planning",
                "exit_barriers": ["criminal_record", "income"],
                "exit_goals": ["Finish my nursing course"],
            },
            "supports": {"referral_needs": ["legal"]},
        },
    ),
    # A couple who did not choose work as a topic: nothing about work anywhere.
    "couple": (
        "couple",
        {
            "consent": CONSENT,
            "about": {
                "partner_a_name": "Sam",
                "partner_a_pronouns": "she/her",
                "partner_b_name": "Alex",
                "partner_b_pronouns": "they/them",
            },
            "goals": {"client_goals": ["Fight less about money"]},
            "partner": {
                "relationship_structure": ["polyamorous", "kink_involved"],
                "couple_topics": ["communication", "trust"],
                "partner_concerns": "I worry what my parents think",
                "partner_stigma": ["cut_off"],
                "partner_support_needs": ["own_session"],
            },
            "stigma_coping": {"coping_strategies": ["role_differentiation", "humor"]},
        },
    ),
    # A couple who chose work together: the worker's own account, the work steps per person.
    "couple_work": (
        "couple",
        {
            "consent": CONSENT,
            "about": {
                "partner_a_name": "Sam",
                "partner_b_name": "Alex",
                "partner_b_pronouns": "they/them",
                "work_term": "the life",
            },
            "goals": {"client_goals": ["Fight less about money"]},
            "partner": {
                "relationship_structure": ["open"],
                "couple_topics": ["communication", "sex_work"],
                "partner_concerns": "I want us to be honest",
                "worker_description": "It is a job I am good at",
            },
            "work_context": {"work_types": ["escort_independent"]},
            "precautions": {"precautions_used": ["screening_clients"]},
            "work_plans": {"work_direction": "continue"},
        },
    ),
    # Continuing, with precautions to strengthen and harm reduction chosen (G2, G6).
    "continuing_hr": (
        "individual",
        {
            "consent": CONSENT,
            "about": {"work_focus": "central", "work_term": "provider"},
            "goals": {"client_goals": ["Stop feeling so tired"]},
            "work_context": {"job_autonomy": ["choose_hours", "say_no"]},
            "precautions": {
                "precautions_used": ["screening_clients"],
                "precautions_to_strengthen": "Checking in with a friend after each booking",
            },
            "work_plans": {"work_direction": "change_conditions"},
            "harm_reduction": {
                "occupational_health": ["burnout", "boundaries"],
                "sexual_health": "yes",
                "money_banking": ["bank_account"],
                "rights": ["police", "landlords"],
                "change_what": "Work from a shared flat with a friend",
            },
        },
    ),
    # Told of violence and police harm, and has no one right now (G1, G5).
    "violence_alone": (
        "individual",
        {
            "consent": CONSENT,
            "about": {"work_focus": "part", "work_term": "I'm a sex worker"},
            "goals": {"client_goals": ["Feel safe at home"]},
            "stigma_coping": {"stigma_experiences": ["violence", "police"]},
            "work_plans": {"work_direction": "undecided"},
            "supports": {"current_supports": ["none"]},
        },
    ),
}


@pytest.fixture
def persona_plan(alice: Persona, alices_client: Client):
    def build(name: str):
        kind, steps = PERSONAS[name]
        return completed_plan(alice, alices_client, kind, steps)

    return build


@pytest.fixture
def run_inline(monkeypatch):
    """Every task of the export (start, renders, assembly) runs in this process, in order."""
    from exports import services as export_services

    from documents import services as document_services

    monkeypatch.setattr(
        export_services, "_enqueue", lambda job_id: export_services.export_run(job_id=job_id)
    )
    monkeypatch.setattr(
        document_services,
        "_enqueue",
        lambda doc_id: document_services.document_render(document_id=doc_id, worker="test:1"),
    )
    monkeypatch.setattr(
        export_services,
        "_send",
        lambda task, job_id: export_services.export_assemble(job_id=job_id),
    )


def run_export_now(job_id: str) -> None:
    """Run an export to the end in this process: start, every render, the assembly."""
    from exports import services as export_services
    from exports.models import ExportItem

    from documents.services import document_render

    export_services.export_run(job_id=job_id)
    for item in ExportItem.objects.filter(job_id=job_id).select_related("document"):
        if item.document and item.document.status != "ready":
            document_render(document_id=str(item.document_id), worker="test:1")
    export_services.export_progress(job_id=job_id)
    export_services.export_assemble(job_id=job_id)
