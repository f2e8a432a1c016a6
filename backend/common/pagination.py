"""Cursor pagination: stable under concurrent inserts, opaque cursors, no counts.
Every API list page goes through here, so here is where a page of clients' records is audited."""

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

from audit.services import audit_listed, client_linked

BAD_CURSOR = "Use the cursor from a page's next or previous link, unchanged."


class CursorPagination(pagination.CursorPagination):
    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200

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
        if cursor is None or cursor.position is None:
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
