"""Cursor pagination: stable under concurrent inserts, opaque cursors, no counts.
Every API list page goes through here, so here is where a page of clients' records is audited."""

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

from audit.services import audit_listed, client_linked

BAD_CURSOR = "Use the cursor from a page's next or previous link, unchanged."
MAX_PAGE_SIZE = 200
BAD_PAGE_SIZE = f"Use a whole number from 1 to {MAX_PAGE_SIZE}."


class CursorPagination(pagination.CursorPagination):
    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Any) -> int:
        """`page_size`, when given, is a whole number from 1 to MAX_PAGE_SIZE; anything else
        is a 400 naming it (DRF would quietly use the default, or cap it)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return int(self.page_size or MAX_PAGE_SIZE)
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            raise ValidationError({self.page_size_query_param: [BAD_PAGE_SIZE]})
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=MAX_PAGE_SIZE)
                parameter["description"] = (
                    f"Results per page, 1 to {MAX_PAGE_SIZE} (default {self.page_size})."
                )
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Every page has `next` and `previous` (null at either end): required, for clients
        generated from the schema."""
        page: dict[str, Any] = super().get_paginated_response_schema(schema)
        page["required"] = ["next", "previous", "results"]
        return page

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        self._model = queryset.model
        page: list[Any] | None = super().paginate_queryset(queryset, request, view)
        if page is not None and client_linked(queryset.model):
            from common.api import caller_membership

            audit_listed(membership=caller_membership(request), rows=page)
        return page

    def decode_cursor(self, request: Any) -> Any:
        """A cursor is opaque, but it arrives from the caller: a forged or damaged one is a 400
        naming `cursor`, never a 500 from the database."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({"cursor": [BAD_CURSOR]}) from None
        if cursor is None:
            return cursor
        if cursor.position is None and not cursor.offset and not cursor.reverse:
            # What a damaged cursor decodes to (base64 drops what it cannot read): the first
            # page, which is never linked with a cursor. Not quietly the first page again.
            raise ValidationError({"cursor": [BAD_CURSOR]})
        if cursor.position is None:
            return cursor
        ordering = self.ordering[0] if isinstance(self.ordering, list | tuple) else self.ordering
        field = self._model._meta.get_field(ordering.lstrip("-"))
        try:
            value = field.to_python(cursor.position)
        except (DjangoValidationError, ValueError, OverflowError):
            raise ValidationError({"cursor": [BAD_CURSOR]}) from None
        if isinstance(value, datetime):  # to the database in UTC, as the filters do
            if value.tzinfo is None:
                raise ValidationError({"cursor": [BAD_CURSOR]})
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                raise ValidationError({"cursor": [BAD_CURSOR]}) from None
            return cursor._replace(position=value.isoformat())  # type: ignore[arg-type]
        return cursor
