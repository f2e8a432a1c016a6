"""The current request's id, so audit events made anywhere in a request can name it, and the
reads the request has made, written together once the response has succeeded."""

import contextvars
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from .models import AuditEvent

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# Where a read was shown: the URL name of the view, and the step for wizard pages (a code).
read_view: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "read_view", default=None
)
# None outside a request: reads are then written at once.
pending_reads: contextvars.ContextVar[list["AuditEvent"] | None] = contextvars.ContextVar(
    "pending_reads", default=None
)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = uuid.uuid4().hex
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response
