"""Cursor pagination: stable under concurrent inserts, opaque cursors, no counts."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200
