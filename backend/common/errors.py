"""One error format for the whole API: {"code": ..., "detail": ..., "errors": {field: [messages]}}.

Validation errors name fields only; the values a client typed never appear in an error.
"""

import json
import logging
import re
import sys
from typing import Any

from django.conf import settings
from django.contrib.sessions.exceptions import SessionInterrupted
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}(\.[a-z0-9_]{1,40}){0,4}")
logger = logging.getLogger(__name__)

# What each error status means in this API (also the descriptions in the OpenAPI schema).
ERROR_STATUSES = {
    400: "Invalid input; `errors` names each field with its messages.",
    401: "No valid credentials.",
    403: "Signed in, but this needs a scope or role the caller does not have.",
    404: "Not found, or outside the caller's clinic or care team.",
    406: "The Accept header (or _format) asks for a format this server does not send.",
    409: "Conflicts with the object's current state (e.g. not ready, not enabled).",
    412: "If-Match is stale: the object changed since it was read.",
    411: "The body was sent without a Content-Length (chunked): send its length.",
    413: "The request body is over the size limit.",
    415: "The body is not JSON: send Content-Type application/json.",
    428: "If-Match is required for this change.",
    429: "Too many requests; retry after the time in Retry-After.",
    503: "Briefly unavailable (the database, or a stored file that cannot be read just now); "
    "retry after the time in Retry-After.",
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of this object."
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "This object was changed by someone else. Reload it and apply your edit again."
    default_code = "precondition_failed"


# DRF's own words for a value of the wrong shape ('Expected a list of items but got type
# "dict".'), said as the rest of this API says it.
SHAPE_MESSAGES = {"not_a_list": "Send a list.", "not_a_dict": "Send a JSON object."}
NOT_AN_OBJECT = "Invalid data. Expected a dictionary"


def _message(message: Any) -> str:
    code = getattr(message, "code", None)
    if code in SHAPE_MESSAGES:
        return SHAPE_MESSAGES[code]
    if code == "invalid" and str(message).startswith(NOT_AN_OBJECT):
        return SHAPE_MESSAGES["not_a_dict"]
    return str(message)


def _as_field_errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for field, messages in detail.items():
            if isinstance(messages, dict):
                for sub, sub_messages in _as_field_errors(messages).items():
                    # A nested object's own error is the field's ("goals", not
                    # "goals.non_field_errors"): the key names the field that was sent.
                    key = str(field) if sub == "non_field_errors" else f"{field}.{sub}"
                    out.setdefault(key, []).extend(sub_messages)
            elif isinstance(messages, list):
                out[str(field)] = [_message(m) for m in messages]
            else:
                out[str(field)] = [_message(messages)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [_message(m) for m in detail]}
    return {"non_field_errors": [_message(detail)]}


# Paths that speak JSON: their errors use the shape above, never an HTML page.
API_PATHS = ("/api/", "/fhir/", "/oauth/")
UNAVAILABLE = {
    "code": "unavailable",
    "detail": "The service cannot reach its database just now. Try again in a minute.",
    "errors": {},
}
SERVER_ERROR = {
    "code": "server_error",
    "detail": "Something went wrong on our side. Nothing was saved by this request.",
    "errors": {},
}
DATABASE_DOWN = (OperationalError, InterfaceError)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DATABASE_DOWN):
        logger.error("database unavailable: %s", type(exc).__name__)
        return Response(
            UNAVAILABLE, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "30"}
        )
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        return Response(
            {
                "code": "too_large",
                "detail": f"The request body is over the {limit} KB limit.",
                "errors": {},
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _as_field_errors(exc.detail)
        # Field names only, and only names that look like ours: a key the caller made up could
        # be anything they typed.
        named = sorted(n for n in errors if FIELD_NAME.fullmatch(n))
        others = len(errors) - len(named)
        logger.info(
            "validation failed on fields: %s%s",
            ", ".join(named),
            f" (+{others} unknown)" if others else "",
        )
        response.data = {
            "code": "invalid",
            "detail": "Some fields need another look.",
            "errors": errors,
        }
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        response.data = {
            "code": getattr(detail, "code", exc.default_code),
            "detail": str(detail),
            "errors": {},
        }
    return response


def _outside_drf(
    request: HttpRequest, status: int, code: str, detail: str, fhir_code: str
) -> HttpResponse | None:
    """An error raised outside DRF on an API or FHIR path, in that path's own shape (None for
    the web pages, which keep Django's pages)."""
    if request.path.startswith("/fhir/") or request.path == "/fhir":
        issue = {"severity": "error", "code": fhir_code, "diagnostics": detail}
        return HttpResponse(
            json.dumps({"resourceType": "OperationOutcome", "issue": [issue]}),
            status=status,
            content_type="application/fhir+json; charset=utf-8",
        )
    if request.path.startswith(API_PATHS) or request.path == "/api":
        return JsonResponse({"code": code, "detail": detail, "errors": {}}, status=status)
    return None


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: a path no route matches (e.g. a mistyped API path, or a write to a path
    without its final slash, which common.middleware does not redirect)."""
    detail = "No such path in this API."
    # The same path with or without its final slash: say which (e.g. /api/v1/clients/ but
    # /api/v1/me and /oauth/token).
    path = request.path
    other, hint = (
        (path.rstrip("/"), "the path has no final slash (/)")
        if path.endswith("/")
        else (path + "/", "the path ends with a slash (/)")
    )
    try:
        if other and other != path:
            resolve(other)
            detail = f"No such path in this API: {hint}."
    except Resolver404:
        pass
    return _outside_drf(request, 404, "not_found", detail, "not-found") or (
        defaults.page_not_found(request, exception or Http404())
    )


LENGTH_REQUIRED = "Send the body with a Content-Length header; a chunked body is not read."


def length_required(request: HttpRequest) -> HttpResponse:
    """411 for a body sent without a length (common.middleware.LengthRequiredMiddleware)."""
    return _outside_drf(request, 411, "length_required", LENGTH_REQUIRED, "invalid") or (
        HttpResponse(LENGTH_REQUIRED, status=411, content_type="text/plain; charset=utf-8")
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: e.g. a signed-in session ended (signed out elsewhere) while the request ran,
    or a Host header this service does not answer to."""
    detail = (
        "Your session ended while this request ran; sign in again."
        if isinstance(exception, SessionInterrupted)
        else "The request could not be understood."
    )
    return _outside_drf(request, 400, "bad_request", detail, "invalid") or defaults.bad_request(
        request, exception or BadRequest()
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: a permission refused outside DRF (by a middleware or a plain Django view)."""
    detail = "This needs a permission the request does not have."
    return _outside_drf(request, 403, "permission_denied", detail, "forbidden") or (
        defaults.permission_denied(request, exception or PermissionDenied())
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: errors raised outside DRF (middleware, sessions, templates). API paths get
    the JSON shape; a database outage is a 503, not a 500. Touches no database."""
    down = isinstance(sys.exc_info()[1], DATABASE_DOWN)
    body = UNAVAILABLE if down else SERVER_ERROR
    response = _outside_drf(
        request,
        503 if down else 500,
        str(body["code"]),
        str(body["detail"]),
        "transient" if down else "exception",
    )
    if response is None:
        if not down:
            return defaults.server_error(request)
        response = HttpResponse(
            "<!doctype html><title>Unavailable</title><p>The service is unavailable for a "
            "moment. Please try again shortly.</p>",
            status=503,
        )
    if down:
        response["Retry-After"] = "30"
    return response
