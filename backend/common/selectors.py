"""Lookups that answer 404 for anything malformed, missing or outside the caller's clinic."""

import uuid
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.http import Http404

M = TypeVar("M", bound=Model)


def parse_uuid(value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


def get_or_404(queryset: QuerySet[M], pk: object) -> M:
    try:
        return queryset.get(pk=parse_uuid(pk))
    except ObjectDoesNotExist:
        raise Http404 from None
