"""Two people editing one plan: a save begun on an older version, applied onto the plan as it
is now when nothing it changes was changed by anyone else meanwhile (a three-way merge).

`changes` are plan_update's terms, as the editor builds them against the version it was opened
on (`base`): plan fields; the goals and referrals as whole lists, each row by id with only its
edited fields, new rows without an id, rows left out removed; a goal's steps the same way when
they were edited. The other save is `current` less `base`. The two are merged when they touch
different things: different plan fields, different goals (a goal with its steps is one thing:
a step is written for its goal's words), different referrals. When both touched the same one,
or a decision was recorded meanwhile or is given in this save, there is no merge (None) and
the editor shows both sides.
"""

from typing import Any

from .contract import GOALS_MAX, REFERRALS_MAX

ROWS_MAX = {"goals": GOALS_MAX, "referrals": REFERRALS_MAX}
Rows = list[dict[str, Any]]


class Overlap(Exception):
    """Both saves changed the same thing."""


def _merge_rows(base: Rows, current: Rows, sent: Rows) -> Rows:
    """One list of rows (the goals, the referrals), this save's over the other's. A row is one
    thing: a goal with its steps (a step is written for its goal's words), a referral. The
    rows kept stay in their order, the other save's new rows follow, then this save's."""
    base_by_id = {row["id"]: row for row in base}
    current_by_id = {row["id"]: row for row in current}
    kept: Rows = []
    added = [entry for entry in sent if entry.get("id") is None]
    for entry in sent:
        row_id = entry.get("id")
        if row_id is None:
            continue
        was, now = base_by_id.get(row_id), current_by_id.get(row_id)
        if len(entry) > 1 and now != was:  # edited here, and changed or removed there
            raise Overlap
        if now is not None:
            kept.append(entry)
    sent_ids = {entry.get("id") for entry in sent}
    for row_id, was in base_by_id.items():  # removed by this save
        if row_id not in sent_ids and current_by_id.get(row_id, was) != was:
            raise Overlap  # and changed by the other: not removed unseen
    listed = {entry["id"] for entry in kept}
    theirs = [row for row in current if row["id"] not in base_by_id and row["id"] not in listed]
    return [*kept, *({"id": row["id"]} for row in theirs), *added]


def _same_service_twice(current: Rows, base: Rows, sent: Rows) -> bool:
    """Both saves added a referral to the same service (perhaps with different decisions)."""
    before = {row["id"] for row in base}
    theirs = {str(row["agency"]) for row in current if row["id"] not in before}
    return any(str(entry.get("agency")) in theirs for entry in sent if entry.get("id") is None)


def merge_onto(
    base: dict[str, Any], current: dict[str, Any], changes: dict[str, Any]
) -> dict[str, Any] | None:
    """`changes` rewritten to apply onto `current`, keeping what the other save did; None when
    the two saves overlap, or when a decision came between them (the client agreed to what
    they were shown) or is given in this one (on a plan the client has not seen as it is)."""
    if "agreement" in changes:
        return None
    if current["version"] != base["version"] or current["agreement"] != base["agreement"]:
        return None
    merged: dict[str, Any] = {}
    try:
        for name, value in changes.items():
            if name in ROWS_MAX:
                if name == "referrals" and _same_service_twice(current[name], base[name], value):
                    raise Overlap
                value = _merge_rows(base[name], current[name], value)
                if len(value) > ROWS_MAX[name]:  # together more than a plan holds
                    raise Overlap
            elif current.get(name) != base.get(name):
                raise Overlap
            merged[name] = value
    except Overlap:
        return None
    return merged
