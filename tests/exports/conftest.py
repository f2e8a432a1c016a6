"""Shared by the export tests."""

import pytest
from exports import services as export_services


@pytest.fixture
def run_inline(monkeypatch):
    """Every task of the export (start, renders, assembly) runs in this process, in order."""
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
