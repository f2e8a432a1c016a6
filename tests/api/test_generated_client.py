"""An integrator's view: a typed client generated from the live OpenAPI schema with
openapi-python-client runs the whole flow, documented errors included, with no hand-written
HTTP. If the schema stops describing what the API does, this test fails where a user would."""

import datetime
import importlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

GENERATOR_CONFIG = """\
content_type_overrides:
  application/pdf: application/octet-stream
  application/zip: application/octet-stream
  application/fhir+json: application/json
  text/html: text/plain
"""


@pytest.fixture
def generated(live_server, tmp_path_factory):
    """Generate the client package from the schema the running service serves."""
    folder = tmp_path_factory.mktemp("generated")
    schema = folder / "schema.json"
    schema.write_bytes(httpx.get(f"{live_server.url}/api/v1/schema/?format=json").content)
    (folder / "config.yaml").write_text(GENERATOR_CONFIG)
    bindir = Path(sys.executable).parent
    result = subprocess.run(
        [
            str(bindir / "openapi-python-client"),
            "generate",
            "--path",
            str(schema),
            "--meta",
            "none",
            "--output-path",
            str(folder / "care_client"),
            "--config",
            str(folder / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"},
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield lambda name: importlib.import_module(f"care_client.{name}")
    finally:
        sys.path.remove(str(folder))
        for module in [m for m in sys.modules if m.split(".")[0] == "care_client"]:
            del sys.modules[module]
        shutil.rmtree(folder, ignore_errors=True)


def test_the_whole_flow_through_a_generated_client(generated, live_server, alice, worker):
    pkg = generated("client")
    api = lambda name: generated(f"api.api.{name}")  # noqa: E731
    models = generated("models")
    client = pkg.AuthenticatedClient(
        base_url=live_server.url, token=alice.token, raise_on_unexpected_status=True
    )

    me = api("api_v1_me_retrieve").sync(client=client)
    assert str(me.clinic) == str(alice.clinic.pk)

    created = api("api_v1_clients_create").sync(
        client=client, body=models.ClientRequest(display_name="Wren", external_id="EHR-77")
    )
    intake = api("api_v1_intakes_create").sync(
        client=client,
        body=models.IntakeStartRequest(client=created.id, kind=models.KindEnum.INDIVIDUAL),
    )
    assert intake.status == models.IntakeStatusEnum.IN_PROGRESS
    step = api("api_v1_intakes_steps_update")
    body = models.ApiV1IntakesStepsUpdateBody.from_dict
    step.sync(
        str(intake.id),
        "consent",
        client=client,
        body=body({"confidentiality_explained": True, "recording_preference": "full"}),
    )
    saved = step.sync(
        str(intake.id),
        "goals",
        client=client,
        body=body({"client_goals": ["Sleep through the night"]}),
    )
    assert saved.answers.additional_properties["goals"]["client_goals"] == [
        "Sleep through the night"
    ]

    # Documented errors arrive as typed Error objects, not exceptions.
    bad = step.sync_detailed(
        str(intake.id), "goals", client=client, body=body({"client_goals": "not a list"})
    )
    assert bad.status_code == 400
    assert "client_goals" in bad.parsed.errors.additional_properties
    missing = api("api_v1_intakes_retrieve").sync_detailed(str(uuid.uuid4()), client=client)
    assert (missing.status_code, missing.parsed.code) == (404, "not_found")

    plan_id = str(api("api_v1_intakes_complete_create").sync(str(intake.id), client=client).plan)
    read = api("api_v1_plans_retrieve").sync_detailed(plan_id, client=client)
    etag = read.headers["ETag"]
    patch = api("api_v1_plans_partial_update")
    changed = patch.sync_detailed(
        plan_id,
        client=client,
        body=models.PatchedPlanPatchRequest(safety_plan="Call Jo"),
        if_match=etag,
    )
    assert changed.status_code == 200
    stale = patch.sync_detailed(
        plan_id,
        client=client,
        body=models.PatchedPlanPatchRequest(safety_plan="Call Sam"),
        if_match=etag,
    )
    assert (stale.status_code, stale.parsed.code) == (412, "precondition_failed")

    # The plan is a typed model, rows and agreement included.
    plan = api("api_v1_plans_retrieve").sync(plan_id, client=client)
    assert isinstance(plan, models.Plan)
    assert plan.goals[0].client_words == "Sleep through the night"
    assert plan.goals[0].steps == []
    assert plan.safety_plan == "Call Jo"
    assert isinstance(plan.agreement, models.PlanAgreement)
    assert plan.agreement.version is None
    assert plan.status == models.PlanStatusEnum.DRAFT

    document = api("api_v1_plans_documents_create").sync(plan_id, client=client)
    deadline = time.monotonic() + 60
    while document.status != models.DocumentStatusEnum.READY:
        assert time.monotonic() < deadline, "the PDF was never ready"
        time.sleep(0.05)
        document = api("api_v1_documents_retrieve").sync(str(document.id), client=client)
    pdf = api("api_v1_documents_pdf_retrieve").sync_detailed(str(document.id), client=client)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")

    intakes = api("api_v1_intakes_list").sync(client=client, client_query=created.id)
    assert [i.id for i in intakes.results] == [intake.id]
    plans = api("api_v1_plans_list").sync(client=client, client_query=created.id)
    assert [str(p.id) for p in plans.results] == [plan_id]
    documents = api("api_v1_documents_list").sync(client=client, plan=uuid.UUID(plan_id))
    assert [d.id for d in documents.results] == [document.id]

    # A bulk export, followed as a typed Export until its zip is ready.
    today = datetime.date.today()  # noqa: DTZ011 - the export range is in days
    job = api("api_v1_exports_create").sync(
        client=client,
        body=models.ExportRequestRequest(
            date_from=today - datetime.timedelta(days=1), date_to=today + datetime.timedelta(days=1)
        ),
    )
    assert isinstance(job, models.Export)
    deadline = time.monotonic() + 60
    while job.status != models.ExportStatusEnum.READY:
        assert job.status != models.ExportStatusEnum.FAILED, job.error
        assert time.monotonic() < deadline, "the export was never ready"
        time.sleep(0.05)
        job = api("api_v1_exports_retrieve").sync(str(job.id), client=client)
    assert job.total == 1
    assert job.zip_ == f"/api/v1/exports/{job.id}/zip"
