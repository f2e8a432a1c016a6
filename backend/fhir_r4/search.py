"""Parsing FHIR search parameters. Anything not understood is a 400 naming the parameter, so an
EHR never silently receives more (or fewer) records than it asked for."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.http import QueryDict
from django.utils.dateparse import parse_date, parse_datetime

DEFAULT_COUNT = 20
MAX_COUNT = 100
ALWAYS_ALLOWED = {"_count", "_offset", "_format", "_lastUpdated"}


class SearchError(ValueError):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


@dataclass
class Search:
    count: int = DEFAULT_COUNT
    offset: int = 0
    patient: str | None = None
    identifier: str | None = None
    # The system asked for with it (`system|value`; "" for `|value`, none at all: None).
    identifier_system: str | None = None
    ids: list[str] = field(default_factory=list)
    updated: list[tuple[str, datetime]] = field(default_factory=list)  # (lookup, moment)
    # Token parameters (status, category...): name -> one group per time the parameter is
    # given (every group must match: AND), each the (system, code) pairs of which any one may
    # match (a comma is OR); system None when not given, "" for `|code`.
    tokens: dict[str, list[list[tuple[str | None, str]]]] = field(default_factory=dict)


# Token parameters with their own meaning per resource type (fhir_r4.views.TOKEN_SEARCH).
TOKEN_PARAMS = {"status", "category", "type", "lifecycle-status"}


def _tokens(name: str, raw: str) -> list[tuple[str | None, str]]:
    pairs: list[tuple[str | None, str]] = []
    for item in raw.split(","):
        system, bar, code = item.rpartition("|")
        if not code:
            raise SearchError(name, f"{name} must be [system|]code, several joined by commas.")
        pairs.append((system if bar else None, code))
    return pairs


def _int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SearchError(name, f"{name} must be a whole number from {low} to {high}.")
    return int(raw)


def _moment(raw: str) -> tuple[datetime, datetime] | None:
    """The instant range a FHIR date or dateTime value covers: [start, end)."""
    try:
        day = parse_date(raw) if len(raw) == 10 else None
    except ValueError:
        return None
    if day is not None:
        start = datetime.combine(day, time.min, tzinfo=UTC)
        return start, start + timedelta(days=1)
    try:
        moment = parse_datetime(raw)
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment, moment


PREFIXES = {"gt": "gt", "ge": "gte", "lt": "lt", "le": "lte", "eq": "eq"}


def _last_updated(values: list[str]) -> list[tuple[str, datetime]]:
    bounds: list[tuple[str, datetime]] = []
    for raw in values:
        prefix = raw[:2] if raw[:2] in PREFIXES else "eq"
        value = raw[2:] if raw[:2] in PREFIXES else raw
        span = _moment(value)
        if span is None:
            raise SearchError(
                "_lastUpdated",
                "_lastUpdated must be a date (YYYY-MM-DD) or a date-time with a time zone, "
                "optionally after gt, ge, lt, le or eq.",
            )
        start, end = span
        exact = start == end
        if prefix == "gt":
            bounds.append(("gt", end) if exact else ("gte", end))
        elif prefix == "ge":
            bounds.append(("gte", start))
        elif prefix == "lt":
            bounds.append(("lt", start))
        elif prefix == "le":
            bounds.append(("lte", end) if exact else ("lt", end))
        else:
            bounds += [("gte", start), ("lte", end) if exact else ("lt", end)]
    return bounds


def _reference_id(raw: str, resource_type: str, name: str) -> str:
    value = raw.removeprefix(f"{resource_type}/")
    if not value or "/" in value:
        raise SearchError(name, f"{name} must be an id or {resource_type}/id.")
    return value


def parse_search(query: QueryDict, allowed: set[str]) -> Search:
    params: dict[str, str] = {name: str(query.get(name, "")) for name in query}
    for name in params:
        if name not in allowed | ALWAYS_ALLOWED:
            raise SearchError(name, f"The search parameter {name} is not supported here.")
    search = Search(
        count=_int(params, "_count", DEFAULT_COUNT, 1, MAX_COUNT),
        offset=_int(params, "_offset", 0, 0, 10**9),
        updated=_last_updated([str(v) for v in query.getlist("_lastUpdated")]),
    )
    if "patient" in params:
        search.patient = _reference_id(params["patient"], "Patient", "patient")
    if "_id" in params:
        search.ids = [v for v in params["_id"].split(",") if v]
        if not search.ids:
            raise SearchError("_id", "_id must name at least one id.")
    for name in sorted(TOKEN_PARAMS & set(params)):
        search.tokens[name] = [_tokens(name, str(raw)) for raw in query.getlist(name)]
    if "identifier" in params:
        system, bar, value = params["identifier"].rpartition("|")
        if not value:
            raise SearchError("identifier", "identifier must be [system|]value.")
        search.identifier = value
        search.identifier_system = system if bar else None
    return search
