"""Writes the reads a request made, in one insert and without any lock, once the response has
succeeded. Selectors register the reads (`audit.services.audit_read`), so no view can forget."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from .context import pending_reads, read_view
from .models import AuditEvent
from .services import audit_append


class ReadAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reads: list[AuditEvent] = []
        token = pending_reads.set(reads)
        view_token = read_view.set({})
        try:
            response = self.get_response(request)
        finally:
            pending_reads.reset(token)
            read_view.reset(view_token)
        # A failed request showed nothing (404 for another clinic's object, 409 before a PDF
        # is ready...); a successful one showed everything its selectors read.
        if response.status_code < 400:
            audit_append(reads)
        return response

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        match = request.resolver_match
        where = {"via": match.view_name} if match and match.view_name else {}
        if isinstance(kwargs.get("step"), str):
            where["step"] = kwargs["step"][:40]
        read_view.set(where)
