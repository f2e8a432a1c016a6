"""/fhir/...: a read-only FHIR R4 server (JSON), scoped like the rest of the API.

Thin views: who reads (access.py), what they may see (selectors.py), how it maps (mapping.py).
Every answer under /fhir/, errors included, is FHIR JSON; an error is an OperationOutcome.
"""

import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpResponse, QueryDict
from django.utils import timezone
from django.utils.http import http_date, parse_http_date_safe
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.permissions import ClinicMember
from audit.services import audit_read
from common.selectors import get_or_404, parse_uuid
from documents.models import DocStatus
from documents.services import DocumentFileLost, DocumentUnreadable, document_pdf
from forms import KINDS
from plans.models import PlanStatus
from smart.auth import SmartTokenAuthentication
from smart.models import AccessToken
from smart.services import fhir_base, token_url

from . import mapping, selectors
from .access import Reader, reader_of
from .models import BulkExport
from .schema import FhirBundleSerializer, FhirOperationOutcomeSerializer, FhirResourceSerializer
from .search import SearchError, parse_search

logger = logging.getLogger(__name__)
FHIR_JSON = "application/fhir+json"
JSON_FORMATS = {"json", FHIR_JSON, "application/json"}


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "json"


class FhirNegotiation(DefaultContentNegotiation):
    """Accept: application/fhir+json or application/json (or anything matching them), or
    _format=json; anything else is 406."""

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        requested = request.query_params.get("_format")
        if requested is not None:
            requested = requested.split(";")[0].strip()
            if requested not in JSON_FORMATS:
                raise exceptions.NotAcceptable("Only JSON is served: use _format=json.")
            renderer = renderers[1] if requested == "application/json" else renderers[0]
            return renderer, renderer.media_type
        try:
            return super().select_renderer(request, renderers, format_suffix)  # type: ignore[return-value]
        except exceptions.NotAcceptable:
            raise exceptions.NotAcceptable(
                "Only JSON is served: Accept application/fhir+json or application/json."
            ) from None


class FhirRead(BasePermission):
    """A SMART access token with a read scope, or a clinic member whose token may read."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if isinstance(request.auth, AccessToken):
            return request.auth.has_scope("read")
        return ClinicMember().has_permission(request, view)


def outcome(
    status: int, code: str, diagnostics: str, expression: str | None = None
) -> HttpResponse:
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    body = {"resourceType": "OperationOutcome", "issue": [issue]}
    return HttpResponse(json.dumps(body), status=status, content_type=f"{FHIR_JSON}; charset=utf-8")


class FhirView(APIView):
    authentication_classes = [
        SmartTokenAuthentication,
        *api_settings.DEFAULT_AUTHENTICATION_CLASSES,  # type: ignore[list-item]
    ]
    permission_classes = [FhirRead]
    renderer_classes = [FhirJSONRenderer, JSONRenderer]
    content_negotiation_class = FhirNegotiation
    # For the schema: errors are OperationOutcomes, always as FHIR JSON (see `outcome`).
    error_serializer = FhirOperationOutcomeSerializer
    error_media_type = FHIR_JSON
    error_statuses: tuple[int, ...] = (406,)  # FHIR XML (or another format) asked for

    def handle_exception(self, exc: Exception) -> HttpResponse:  # type: ignore[override]
        if isinstance(exc, SearchError):
            return outcome(400, "invalid", exc.message, exc.param)
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response = outcome(401, "login", str(exc.detail))
            response["WWW-Authenticate"] = self.get_authenticate_header(self.request) or "Bearer"
            return response
        if isinstance(exc, exceptions.PermissionDenied):
            return outcome(403, "forbidden", str(exc.detail))
        if isinstance(exc, Http404 | exceptions.NotFound):
            return outcome(404, "not-found", "Not found.")
        if isinstance(exc, exceptions.NotAcceptable):
            return outcome(406, "not-supported", str(exc.detail))
        if isinstance(exc, exceptions.MethodNotAllowed):
            response = outcome(405, "not-supported", "This server is read-only: use GET.")
            response["Allow"] = ", ".join(self.allowed_methods)
            return response
        if isinstance(exc, exceptions.Throttled):
            response = outcome(429, "throttled", "Too many requests; try again later.")
            wait = getattr(exc, "wait", None)
            if wait is not None:  # as the REST API says it: when to try again
                response["Retry-After"] = str(max(int(wait), 1))
            return response
        if isinstance(exc, exceptions.APIException):
            return outcome(exc.status_code, "invalid", "The request cannot be processed.")
        if isinstance(exc, OperationalError | InterfaceError):
            logger.error("FHIR: database unavailable: %s", type(exc).__name__)
            response = outcome(503, "transient", "The service is briefly unavailable; retry soon.")
            response["Retry-After"] = "30"
            return response
        logger.exception("FHIR request failed")
        return outcome(500, "exception", "Something went wrong on the server.")

    def respond(self, body: dict[str, Any], status: int = 200) -> HttpResponse:
        media_type = getattr(self.request, "accepted_media_type", FHIR_JSON).split(";")[0]
        response = HttpResponse(
            json.dumps(body, ensure_ascii=False),
            status=status,
            content_type=f"{media_type}; charset=utf-8",
        )
        version = body.get("meta", {}).get("versionId")
        if version and body.get("resourceType") != "Bundle":
            response["ETag"] = f'W/"{version}"'
            response["Last-Modified"] = http_date(_updated(body))
        return response

    def read(self, body: dict[str, Any]) -> HttpResponse:
        """A read, answered 304 (no body) when the caller's copy is current: its ETag matches
        (If-None-Match, which wins when sent), or it was modified at or after this one's last
        change (If-Modified-Since, an HTTP date, to the second)."""
        version = body["meta"]["versionId"]
        match = self.request.headers.get("If-None-Match")
        since = parse_http_date_safe(self.request.headers.get("If-Modified-Since") or "")
        if (match is not None and match in (f'W/"{version}"', f'"{version}"')) or (
            match is None and since is not None and int(_updated(body)) <= since
        ):
            response = HttpResponse(status=304)
            response["ETag"] = f'W/"{version}"'
            response["Last-Modified"] = http_date(_updated(body))
            return response
        return self.respond(body)


def _updated(body: dict[str, Any]) -> float:
    """A resource's meta.lastUpdated as a timestamp (HTTP dates are to the second)."""
    return datetime.fromisoformat(body["meta"]["lastUpdated"]).timestamp()


# What each patient-linked resource type is made of.


@dataclass(frozen=True)
class ResourceKind:
    queryset: Callable[[Reader], QuerySet[Any]]
    build: Callable[[Any, str], Any]  # (object, FHIR base URL) -> resource
    last_updated: Callable[[Any], datetime]
    client_id: Callable[[Any], uuid.UUID]
    patient_field: str
    audited: bool = True


def _document(document: Any, base: str) -> Any:
    replaces, newer = selectors.document_neighbours(document)
    pdf = None
    if document.status == DocStatus.READY:
        # A stored file gone or damaged leaves the document failed ("preliminary"); one the
        # keys cannot open is described without its size and hash.
        with contextlib.suppress(DocumentFileLost, DocumentUnreadable):
            pdf = document_pdf(document)
    return mapping.document_reference(
        document, pdf, replaces, superseded=newer is not None, base=base
    )


RESOURCES: dict[str, ResourceKind] = {
    "Patient": ResourceKind(
        selectors.patients,
        lambda c, base: mapping.patient_resource(c, settings.FHIR_EHR_ID_SYSTEM),
        lambda c: c.updated_at,
        lambda c: c.pk,
        "id",
    ),
    "QuestionnaireResponse": ResourceKind(
        selectors.intakes,
        lambda i, base: mapping.questionnaire_response(i, base),
        lambda i: i.updated_at,
        lambda i: i.client_id,
        "client_id",
    ),
    "Consent": ResourceKind(
        selectors.intakes,
        lambda i, base: mapping.consent(i, base),
        lambda i: i.updated_at,
        lambda i: i.client_id,
        "client_id",
    ),
    "CarePlan": ResourceKind(
        selectors.plans,
        lambda p, base: mapping.care_plan(p),
        lambda p: p.updated_at,
        lambda p: p.client_id,
        "client_id",
    ),
    "Goal": ResourceKind(
        selectors.goals,
        lambda g, base: mapping.goal(g, g.plan),
        lambda g: max(g.updated_at, g.plan.updated_at),
        lambda g: g.plan.client_id,
        "plan__client_id",
    ),
    "DocumentReference": ResourceKind(
        selectors.documents,
        _document,
        lambda d: d.updated_at,
        lambda d: d.plan.client_id,
        "plan__client_id",
    ),
}
_AGREED = PlanStatus.AGREED
_SUPERSEDED = selectors.superseded_documents()
# Token searches, per type: the codes each resource carries, as queries on its rows.
TOKEN_SEARCH: dict[str, dict[str, Callable[[selectors.Tokens], Q]]] = {
    "CarePlan": {
        "status": selectors.coded_status(
            {"active": Q(status=_AGREED), "draft": ~Q(status=_AGREED)}
        ),
        "category": selectors.fixed_codes(mapping.CARE_PLAN_CATEGORIES),
    },
    "Goal": {
        "lifecycle-status": selectors.coded_status(
            {"active": Q(plan__status=_AGREED), "proposed": ~Q(plan__status=_AGREED)}
        ),
    },
    "DocumentReference": {
        "status": selectors.coded_status(
            {
                "current": ~Q(status=DocStatus.FAILED) & ~_SUPERSEDED,
                "superseded": _SUPERSEDED,
                "entered-in-error": Q(status=DocStatus.FAILED),
            }
        ),
        "category": selectors.fixed_codes([mapping.DOCUMENT_CATEGORY]),
        "type": selectors.fixed_codes([mapping.DOCUMENT_TYPE]),
    },
}
SEARCH_PARAMS = {
    "Patient": {"_id", "identifier"},
    **{name: {"patient", *params} for name, params in TOKEN_SEARCH.items()},
}


def _require(reader: Reader, resource_type: str, interaction: str) -> None:
    """A 403 for a token whose SMART scopes do not name this resource type (and interaction)."""
    if not reader.allows(resource_type, interaction):
        verb = "search" if interaction == "s" else "read"
        raise exceptions.PermissionDenied(
            f"This token's scopes do not let it {verb} {resource_type} "
            f"(system/{resource_type}.{interaction} or system/*.{interaction} would)."
        )


def _audit(reader: Reader, action: str, obj: Model, client_id: Any, **detail: Any) -> None:
    """Every FHIR access reads records (the server is read-only): appended without the chain's
    lock and sealed in order later, like every other read."""
    audit_read(
        actor=reader.actor,
        clinic_id=reader.clinic_id,
        obj=obj,
        client_id=client_id,
        action=action,
        **{**reader.audit_detail(), **detail},
    )


@extend_schema(exclude=True)
class CapabilityView(FhirView):
    """GET /fhir/metadata: what this server does, readable without signing in."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> HttpResponse:
        return self.respond(
            mapping.capability_statement(
                base=fhir_base(request),
                token_url=token_url(request),
                resources={
                    name: sorted(SEARCH_PARAMS.get(name, {"patient"})) for name in RESOURCES
                },
            )
        )


NOT_MODIFIED = OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match.")
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description='The ETag of your copy (W/"<versionId>"): 304 with no body if unchanged.',
)


class QuestionnaireView(FhirView):
    @extend_schema(
        operation_id="fhir_questionnaire_read",
        responses={(200, FHIR_JSON): FhirResourceSerializer, 304: NOT_MODIFIED},
        parameters=[IF_NONE_MATCH],
    )
    def get(self, request: Request, pk: str) -> HttpResponse:
        if pk not in KINDS:
            raise Http404
        questionnaire = mapping.questionnaire(pk, fhir_base(request))
        return self.read(mapping.as_json(questionnaire, mapping.form_updated()))


class ReadView(FhirView):
    """GET /fhir/{type}/{id}."""

    @extend_schema(
        operation_id="fhir_read",
        responses={(200, FHIR_JSON): FhirResourceSerializer, 304: NOT_MODIFIED},
        parameters=[IF_NONE_MATCH],
    )
    def get(self, request: Request, resource_type: str, pk: str) -> HttpResponse:
        kind = RESOURCES.get(resource_type)
        if kind is None:
            raise Http404
        reader = reader_of(request)
        _require(reader, resource_type, "r")
        obj = get_or_404(kind.queryset(reader), pk)
        _audit(reader, "read", obj, kind.client_id(obj))
        body = mapping.as_json(kind.build(obj, fhir_base(request)), kind.last_updated(obj))
        return self.read(body)


class AnyAccept(DefaultContentNegotiation):
    """Binary answers in its own content type whatever is asked (FHIR: a Binary is served in
    its native type unless FHIR JSON is asked for), so nothing is refused here."""

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class BinaryView(FhirView):
    """GET /fhir/Binary/{document}: a ready DocumentReference's PDF (its attachment.url), for
    whoever may read the DocumentReference with the right to export: a SMART backend client
    with its read scope, or a person whose token has the export scope. The PDF itself, or a
    FHIR Binary (base64) when FHIR JSON is asked for. Each fetch is a download in the audit."""

    required_scope = "export"
    content_negotiation_class = AnyAccept  # type: ignore[assignment]  # its own negotiation
    error_statuses = (503,)  # never 406: the PDF, or FHIR JSON when asked for

    @extend_schema(
        operation_id="fhir_binary_read",
        description="A ready document's PDF: `application/pdf` by default, or a FHIR Binary "
        "(base64 `data`, with the DocumentReference's security labels and `securityContext`) "
        "when FHIR JSON is asked for (`Accept: application/fhir+json` or `_format=json`).",
        parameters=[
            OpenApiParameter(
                "_format", str, description="`json` for a FHIR Binary instead of the PDF."
            )
        ],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, FHIR_JSON): FhirResourceSerializer,
        },
    )
    def get(self, request: Request, pk: str) -> HttpResponse:
        reader = reader_of(request)
        if not reader.allows("DocumentReference", "r"):  # the Binary is its document's PDF
            _require(reader, "Binary", "r")
        document = get_or_404(
            RESOURCES["DocumentReference"].queryset(reader).filter(status=DocStatus.READY), pk
        )
        try:
            pdf = document_pdf(document)
        except DocumentFileLost:
            return outcome(404, "not-found", "The stored PDF could not be read; ask for it again.")
        except DocumentUnreadable:
            response = outcome(503, "transient", "The stored PDF cannot be read just now.")
            response["Retry-After"] = "30"
            return response
        _audit(reader, "export", document, document.plan.client_id, download=True)
        wanted = request.META.get("HTTP_ACCEPT", "") + request.query_params.get("_format", "")
        if "json" in wanted and "application/pdf" not in wanted:  # FHIR JSON asked for
            return self.respond(mapping.as_json(mapping.binary(document, pdf), document.updated_at))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
        return response


class SearchView(FhirView):
    """GET /fhir/{type}?patient=&_lastUpdated=&_count=&_offset= -> Bundle searchset."""

    @extend_schema(
        operation_id="fhir_search",
        parameters=[
            OpenApiParameter("patient", str, description="Client id (not on Patient)."),
            OpenApiParameter("_id", str, description="Patient only: by id."),
            OpenApiParameter(
                "identifier", str, description="Patient only: [system|]EHR id (external_id)."
            ),
            OpenApiParameter(
                "status",
                str,
                description="CarePlan: active (agreed) or draft. DocumentReference: current, "
                "superseded or entered-in-error. Several joined by commas: any of them.",
            ),
            OpenApiParameter(
                "category",
                str,
                description="CarePlan: assess-plan or SNOMED 718347000; DocumentReference: "
                "clinical-note ([system|]code).",
            ),
            OpenApiParameter("type", str, description="DocumentReference: LOINC 18776-5."),
            OpenApiParameter(
                "lifecycle-status", str, description="Goal: active (agreed) or proposed."
            ),
            OpenApiParameter("_lastUpdated", str, many=True),
            OpenApiParameter("_count", int),
            OpenApiParameter("_offset", int),
            OpenApiParameter("_format", str, description="json or application/fhir+json."),
        ],
        responses={(200, FHIR_JSON): FhirBundleSerializer},
    )
    def get(self, request: Request, resource_type: str) -> HttpResponse:
        return self.search(request, resource_type, request.query_params)

    def search(self, request: Request, resource_type: str, query: QueryDict) -> HttpResponse:
        kind = RESOURCES.get(resource_type)
        if kind is None:
            raise Http404
        search = parse_search(query, SEARCH_PARAMS.get(resource_type, {"patient"}))
        reader = reader_of(request)
        _require(reader, resource_type, "s")
        qs = kind.queryset(reader)
        if search.patient is not None:
            qs = qs.filter(**{kind.patient_field: _uuid_or_none(search.patient)})
        if search.ids:
            qs = qs.filter(pk__in=[_uuid_or_none(i) for i in search.ids])
        if search.identifier is not None:
            qs = qs.filter(pk__in=selectors.patients_by_ehr_id(reader, search.identifier))
            # A token's system must be the identifiers' own (FHIR_EHR_ID_SYSTEM; `|value`: none
            # set): an MRN of another assigning authority is another patient's.
            if search.identifier_system not in (None, settings.FHIR_EHR_ID_SYSTEM or ""):
                qs = qs.none()
        for name, groups in search.tokens.items():
            for tokens in groups:  # each time the parameter is given: AND
                qs = qs.filter(TOKEN_SEARCH[resource_type][name](tokens))
        if search.updated:
            qs = qs.filter(selectors.updated_filter(qs.model, search.updated))
        qs = qs.order_by("updated_at", "pk")
        total = qs.count()
        page = list(qs[search.offset : search.offset + search.count])
        base = fhir_base(request)
        entries = [
            {
                "fullUrl": f"{base}/{resource_type}/{obj.pk}",
                "resource": mapping.as_json(kind.build(obj, base), kind.last_updated(obj)),
                "search": {"mode": "match"},
            }
            for obj in page
        ]
        if page:
            _audit(
                reader,
                "list",
                reader.clinic,
                None,
                resource=resource_type,
                clients=sorted({str(kind.client_id(obj)) for obj in page}),
            )
        params = [(k, v) for k in query for v in query.getlist(k)]

        def link(relation: str, offset: int) -> dict[str, str]:
            kept = [(k, v) for k, v in params if k != "_offset"]
            query = urlencode([*kept, ("_offset", str(offset))] if offset else kept)
            return {"relation": relation, "url": f"{base}/{resource_type}?{query}".rstrip("?")}

        links = [link("self", search.offset)]
        if search.offset + search.count < total:
            links.append(link("next", search.offset + search.count))
        if search.offset:
            links.append(link("previous", max(0, search.offset - search.count)))
        bundle = {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "meta": {"lastUpdated": timezone.now().isoformat()},
            "type": "searchset",
            "total": total,
            "link": links,
            **({"entry": entries} if entries else {}),
        }
        return self.respond(bundle)


class SearchPostView(SearchView):
    """POST /fhir/{type}/_search: the same search, its parameters in a form body (FHIR's way to
    keep an identifier or a long query out of the URL); GET /fhir/{type}/_search as well."""

    # A search reads, whichever the method: a read-only token may make it.
    required_scope = "read"

    @extend_schema(
        operation_id="fhir_search_post",
        request={"application/x-www-form-urlencoded": OpenApiTypes.OBJECT},
        responses={(200, FHIR_JSON): FhirBundleSerializer},
    )
    def post(self, request: Request, resource_type: str) -> HttpResponse:
        if request.content_type.split(";")[0].strip() != "application/x-www-form-urlencoded":
            return outcome(
                415, "not-supported", "Send the search parameters as a form (urlencoded)."
            )
        query = request.query_params.copy()
        body = request._request.POST
        for name in body:
            query.setlist(name, [*query.getlist(name), *body.getlist(name)])
        return self.search(request, resource_type, query)


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return parse_uuid(value)
    except Http404:
        return None  # matches nothing


@extend_schema(exclude=True)
class UnknownView(FhirView):
    """Anything else under /fhir/: a FHIR 404, never an HTML page."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        raise Http404


# FHIR Bulk Data $export: kick-off, status, files (ndjson built when fetched).

EXPORT_LIFETIME = timedelta(hours=1)
NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = {NDJSON, "application/ndjson", "ndjson"}


class ExportKickOffView(FhirView):
    """GET /fhir/$export and /fhir/Patient/$export (Prefer: respond-async) -> 202."""

    required_scope = "export"  # people need the export scope; backend clients their read scope

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponse:
        if "respond-async" not in request.headers.get("Prefer", ""):
            raise SearchError("Prefer", "Bulk export needs the header Prefer: respond-async.")
        params = request.query_params
        for name in params:
            if name not in {"_outputFormat", "_type", "_since", "_format"}:
                raise SearchError(name, f"The parameter {name} is not supported here.")
        if params.get("_outputFormat", NDJSON) not in OUTPUT_FORMATS:
            raise SearchError("_outputFormat", "Only application/fhir+ndjson is offered.")
        reader = reader_of(request)
        readable = [t for t in RESOURCES if reader.allows(t, "r")]
        types = [t for t in params.get("_type", "").split(",") if t] or readable
        unknown = [t for t in types if t not in RESOURCES]
        if unknown:
            raise SearchError("_type", f"Not exported here: {', '.join(unknown)}.")
        for name in types:  # the types its scopes name, all of them or a 403
            _require(reader, name, "r")
        if not types:
            _require(reader, "Patient", "r")
        since = None
        if "_since" in params:
            query = QueryDict(mutable=True)
            query["_lastUpdated"] = f"ge{params['_since']}"
            try:
                since = parse_search(query, set()).updated[0][1]
            except SearchError:
                raise SearchError("_since", "_since must be an instant with a time zone.") from None
        # What the manifest names as its request: the path and the parameters as checked.
        asked = [("_type", ",".join(dict.fromkeys(types)))] if "_type" in params else []
        asked += [(n, params[n]) for n in ("_since", "_outputFormat") if n in params]
        path = request.path.rsplit("/fhir/", 1)[-1]
        export = BulkExport.objects.create(
            clinic_id=reader.clinic_id,
            backend_client=reader.backend_client,
            user=reader.actor,
            types=types,
            since=since,
            kick_off=f"{path}?{urlencode(asked, safe=',:')}" if asked else path,
        )
        response = HttpResponse(status=202)
        response["Content-Location"] = f"{fhir_base(request)}/$export-poll/{export.pk}"
        return response


def _export_of(request: Request, pk: str) -> BulkExport:
    reader = reader_of(request)
    owner = (
        {"backend_client": reader.backend_client}
        if reader.backend_client is not None
        else {"user": reader.actor}
    )
    return get_or_404(
        BulkExport.objects.filter(
            clinic_id=reader.clinic_id,
            created_at__gt=timezone.now() - EXPORT_LIFETIME,
            **owner,
        ),
        pk,
    )


class ExportStatusView(FhirView):
    """GET: the manifest (the files are ready at once); DELETE: cancel."""

    required_scope = "export"

    @extend_schema(exclude=True)
    def get(self, request: Request, pk: str) -> HttpResponse:
        export = _export_of(request, pk)
        base = fhir_base(request)
        manifest = {
            "transactionTime": export.created_at.isoformat(),
            "request": f"{base}/{export.kick_off or '$export'}",
            "requiresAccessToken": True,
            "output": [
                {"type": t, "url": f"{base}/$export-file/{export.pk}/{t}.ndjson"}
                for t in export.types
            ],
            "error": [],
        }
        response = HttpResponse(json.dumps(manifest), content_type="application/json")
        response["Expires"] = (export.created_at + EXPORT_LIFETIME).strftime(
            "%a, %d %b %Y %H:%M:%S GMT"
        )
        return response

    @extend_schema(exclude=True)
    def delete(self, request: Request, pk: str) -> HttpResponse:
        _export_of(request, pk).delete()
        return HttpResponse(status=202)


class ExportFileView(FhirView):
    """GET /fhir/$export-file/{export}/{Type}.ndjson: one resource per line."""

    required_scope = "export"

    @extend_schema(exclude=True)
    def get(self, request: Request, pk: str, resource_type: str) -> HttpResponse:
        export = _export_of(request, pk)
        kind = RESOURCES.get(resource_type)
        if kind is None or resource_type not in export.types:
            raise Http404
        reader = reader_of(request)
        qs = kind.queryset(reader).filter(updated_at__lte=export.created_at)
        if export.since is not None:
            qs = qs.filter(selectors.updated_filter(qs.model, [("gte", export.since)]))
        base = fhir_base(request)
        objects = list(qs.order_by("updated_at", "pk"))
        lines = [
            json.dumps(mapping.as_json(kind.build(obj, base), kind.last_updated(obj)))
            for obj in objects
        ]
        if objects:
            _audit(
                reader,
                "export",
                export,
                None,
                resource=resource_type,
                clients=sorted({str(kind.client_id(obj)) for obj in objects}),
            )
        return HttpResponse(
            "".join(f"{line}\n" for line in lines), content_type=f"{NDJSON}; charset=utf-8"
        )
