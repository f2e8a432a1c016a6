"""Cursor pagination: stable under concurrent inserts, opaque cursors, no counts.
Every API list page goes through here, so here is where a page of clients' records is audited."""

from typing import Any

from rest_framework import pagination

from audit.services import audit_listed, client_linked


class CursorPagination(pagination.CursorPagination):
    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        page: list[Any] | None = super().paginate_queryset(queryset, request, view)
        if page is not None and client_linked(queryset.model):
            from common.api import caller_membership

            audit_listed(membership=caller_membership(request), rows=page)
        return page
