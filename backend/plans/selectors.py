"""Reading plans, scoped to the caller's clinic, and their one API representation."""

import hashlib
import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import Membership
from audit.services import audit_read_by
from clients.models import Client
from clients.selectors import clinical_scope
from common.crypto import encrypted_fields
from common.selectors import get_or_404, parse_uuid
from forms import STEPS_BY_NAME
from intake.models import Intake
from referrals.models import PlanReferral

from .contract import PROGRESS_LABELS
from .models import (
    GoalProgress,
    PlanGoal,
    PlanReadCopy,
    PlanReview,
    PlanVersion,
    TreatmentPlan,
)

STRENGTH_FIELDS = {
    "precautions": STEPS_BY_NAME["precautions"].get_field("precautions_used"),
    "coping": STEPS_BY_NAME["stigma_coping"].get_field("coping_strategies"),
}
SUPPORT_FIELD = STEPS_BY_NAME["supports"].get_field("current_supports")
SUPPORT_CODES = SUPPORT_FIELD.codes  # one enum in the schema, for requests and responses


def choice_label(field: Any, code: str) -> str:
    return next((c.label for c in field.choices if c.code == code), code)


def plans_for(*, membership: Membership) -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.filter(
        clinical_scope(membership=membership), clinic_id=membership.clinic_id
    )


def with_contents(qs: QuerySet[TreatmentPlan]) -> QuerySet[TreatmentPlan]:
    """Everything a plan's representation reads, in a fixed number of queries."""
    return qs.select_related("client", "intake").prefetch_related(
        Prefetch("goals", queryset=PlanGoal.objects.prefetch_related("steps")),
        Prefetch("referrals", queryset=PlanReferral.objects.select_related("agency")),
        Prefetch("versions", queryset=PlanVersion.objects.only("version", "agreed_at", "plan_id")),
    )


def plan_get(
    *, membership: Membership, plan_id: uuid.UUID | str, contents: bool = True
) -> TreatmentPlan:
    """The plan, audited as read. `contents=False`: the plan row with its client and intake rows
    and none of their text (what a PDF request's content key needs), not its goals, steps and
    referrals."""
    qs = plans_for(membership=membership)
    if contents:
        qs = with_contents(qs)
    else:
        qs = qs.select_related("client", "intake").defer(
            *encrypted_fields(TreatmentPlan),
            *encrypted_fields(Client, "client__"),
            *encrypted_fields(Intake, "intake__"),
        )
    plan = get_or_404(qs, plan_id)
    audit_read_by(membership=membership, obj=plan, client_id=plan.client_id)
    return plan


def _code_digest() -> str:
    """Changes whenever the code that shapes a representation does (this module, the contract,
    the form definitions and their labels, the translations): a deploy never serves a copy in an
    older shape."""
    backend = Path(__file__).resolve().parent.parent
    files = [Path(__file__), backend / "plans" / "contract.py"]
    files += sorted((backend.parent / "forms").glob("*.py"))
    files += sorted((backend / "locale").glob("*/LC_MESSAGES/django.mo"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


_CODE_DIGEST = _code_digest()


def _read_stamp(etag: str) -> str:
    return hashlib.sha256(f"{etag}|{get_language()}|{_CODE_DIGEST}".encode()).hexdigest()


def plan_read(*, membership: Membership, plan_id: uuid.UUID | str) -> tuple[dict[str, Any], str]:
    """A plan's API representation and its ETag, for the caller (404 outside their scope; the
    read is audited). Served from the plan's read copy when nothing has changed since it was
    built: one row and one decryption, instead of every goal, step and referral."""
    from .services import plan_etag

    # Plain values rather than model rows with `only()`: the cheapest query the ORM builds, on
    # the most frequent read there is.
    rows = list(
        plans_for(membership=membership)
        .filter(pk=parse_uuid(plan_id))
        .values_list(
            "id", "client_id", "version", "updated_at", "read_copy__stamp", "read_copy__body"
        )
    )
    if not rows:
        raise Http404
    pk, client_id, version, updated_at, stamp, body = rows[0]
    plan = TreatmentPlan(
        id=pk, clinic_id=membership.clinic_id, client_id=client_id, version=version
    )
    plan.updated_at = updated_at  # auto_now: only a save sets it otherwise
    audit_read_by(membership=membership, obj=plan, client_id=client_id)
    if stamp is not None and stamp == _read_stamp(plan_etag(plan)):
        return body, plan_etag(plan)
    full = with_contents(TreatmentPlan.objects.filter(pk=plan.pk)).first()
    if full is None:  # erased since the first query
        raise Http404
    rep, etag = plan_representation(full), plan_etag(full)
    PlanReadCopy.objects.update_or_create(
        plan_id=full.pk, defaults={"stamp": _read_stamp(etag), "body": rep}
    )
    return rep, etag


def goal_get(*, membership: Membership, goal_id: uuid.UUID | str) -> PlanGoal:
    goal = get_or_404(
        PlanGoal.objects.select_related("plan").filter(
            clinical_scope(membership=membership, client_field="plan__client"),
            plan__clinic_id=membership.clinic_id,
        ),
        goal_id,
    )
    audit_read_by(membership=membership, obj=goal, client_id=goal.plan.client_id)
    return goal


def plan_representation(plan: TreatmentPlan) -> dict[str, Any]:
    rep = _representation(plan)
    # The fingerprint of the content as shown: what an agreement to this version records.
    rep["content_sha256"] = content_sha256(rep)
    return rep


def _representation(plan: TreatmentPlan) -> dict[str, Any]:
    return {
        "id": str(plan.pk),
        "client": str(plan.client_id),
        "intake": str(plan.intake_id),
        "version": plan.version,
        "status": plan.status,
        "goals": [
            {
                "id": str(goal.pk),
                "client_words": goal.client_words,
                "clinical_restatement": goal.clinical_restatement,
                "target_date": goal.target_date.isoformat() if goal.target_date else None,
                "steps": [
                    {
                        "id": str(s.pk),
                        "description": s.description,
                        "who": s.who,
                        "frequency": s.frequency,
                    }
                    for s in goal.steps.all()
                ],
            }
            for goal in plan.goals.all()
        ],
        "strengths": [
            {**s, "label": choice_label(STRENGTH_FIELDS[s["source"]], s["code"])}
            for s in plan.strengths
        ],
        "strengths_notes": plan.strengths_notes,
        "supports": [{"code": c, "label": choice_label(SUPPORT_FIELD, c)} for c in plan.supports],
        "supports_notes": plan.supports_notes,
        "safety_plan": plan.safety_plan,
        "referrals": [
            {
                "id": str(r.pk),
                "agency": str(r.agency_id),
                "name": r.agency.name,
                "client_decision": r.client_decision,
                "note": r.note,
            }
            for r in plan.referrals.all()
        ],
        "review_date": plan.review_date.isoformat() if plan.review_date else None,
        # What the client chose to take home (not plan content: changing it opens no version).
        "client_copy_sections": list(plan.client_copy_sections),
        "agreement": {
            "client_decision": plan.client_decision or None,
            "client_comment": plan.client_comment,
            "client_signed_name": plan.client_signed_name,
            "clinician_signed_name": plan.clinician_signed_name,
            "agreed_at": plan.agreed_at.isoformat() if plan.agreed_at else None,
            # The version and content the decision was given on.
            "version": plan.agreement_version,
            "content_sha256": plan.agreement_sha256 or None,
            "recorded_at": (
                plan.agreement_recorded_at.isoformat() if plan.agreement_recorded_at else None
            ),
        },
        "versions": [
            {"version": v.version, "agreed_at": v.agreed_at.isoformat()}
            for v in plan.versions.all()
        ],
        "created_at": plan.created_at.isoformat(),
        "updated_at": plan.updated_at.isoformat(),
    }


def plan_content(rep: dict[str, Any]) -> dict[str, Any]:
    """The plan's content as a reader sees it, without ids, timestamps or the agreement: the
    canonical form that an agreement's hash is taken over."""
    return {
        "goals": [
            {
                "client_words": g["client_words"],
                "clinical_restatement": g["clinical_restatement"],
                "target_date": g["target_date"],
                "steps": [
                    {"description": s["description"], "who": s["who"], "frequency": s["frequency"]}
                    for s in g["steps"]
                ],
            }
            for g in rep["goals"]
        ],
        "strengths": [[s["source"], s["code"]] for s in rep["strengths"]],
        "strengths_notes": rep["strengths_notes"],
        "supports": [s["code"] for s in rep["supports"]],
        "supports_notes": rep["supports_notes"],
        "safety_plan": rep["safety_plan"],
        "referrals": [
            {"agency": r["name"], "client_decision": r["client_decision"], "note": r["note"]}
            for r in rep["referrals"]
        ],
        "review_date": rep["review_date"],
    }


def content_sha256(rep: dict[str, Any]) -> str:
    canonical = json.dumps(
        plan_content(rep), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _step_line(step: dict[str, Any], who: dict[str, str]) -> str:
    extra = ", ".join(x for x in (who.get(step["who"], step["who"]), step["frequency"]) if x)
    return f"{step['description']} ({extra})"


def plan_diff(
    before: dict[str, Any], after: dict[str, Any], *, shown: dict[str, Any] | None = None
) -> list[dict[str, str]]:
    """What changed between two representations, field by field, in the page's own labels.
    Goals and referrals are numbered as in `shown` (by default `after`): the plan the reader
    will see, when that is neither of the two."""
    numbers = {
        row["id"]: n
        for name in ("goals", "referrals")
        for n, row in enumerate((shown or after).get(name, []), start=1)
    }
    from .models import StepOwner

    who = {code: str(label) for code, label in StepOwner.choices}
    changes: list[dict[str, str]] = []

    def add(label: str, old: Any, new: Any) -> None:
        if (old or "") != (new or ""):
            changes.append({"label": label, "before": str(old or ""), "after": str(new or "")})

    old_goals = {g["id"]: g for g in before.get("goals", [])}
    new_ids = {g["id"] for g in after.get("goals", [])}
    for goal in after.get("goals", []):
        n = numbers.get(goal["id"], "")
        old = old_goals.get(goal["id"])
        if old is None:
            add(_("Goal %(n)s (new)") % {"n": n}, "", goal["client_words"])
            old = {"clinical_restatement": "", "target_date": None, "steps": []}
        else:
            add(
                _("Goal %(n)s, in the client's words") % {"n": n},
                old["client_words"],
                goal["client_words"],
            )
        add(
            _("Goal %(n)s, clinician's restatement") % {"n": n},
            old["clinical_restatement"],
            goal["clinical_restatement"],
        )
        add(_("Goal %(n)s, aiming for") % {"n": n}, old["target_date"], goal["target_date"])
        add(
            _("Goal %(n)s, steps") % {"n": n},
            "\n".join(_step_line(s, who) for s in old["steps"]),
            "\n".join(_step_line(s, who) for s in goal["steps"]),
        )
    for m, goal in enumerate(before.get("goals", []), start=1):
        if goal["id"] not in new_ids:
            add(_("Goal removed (it was goal %(n)s)") % {"n": m}, goal["client_words"], "")
    for name, label in (("strengths", _("Strengths")), ("supports", _("Supports"))):
        add(
            label,
            ", ".join(x["label"] for x in before.get(name, [])),
            ", ".join(x["label"] for x in after.get(name, [])),
        )
    for name, label in (
        ("safety_plan", _("Back-up plan")),
        ("review_date", _("Review date")),
        ("strengths_notes", _("Notes on strengths")),
        ("supports_notes", _("Notes on supports")),
    ):
        add(label, before.get(name), after.get(name))

    from referrals.models import ClientDecision as ReferralDecision

    from .models import ClientDecision

    referral_decisions = {code: str(label) for code, label in ReferralDecision.choices}
    decisions = {code: str(label) for code, label in ClientDecision.choices}

    def referral_line(r: dict[str, Any]) -> str:
        decision = referral_decisions.get(r["client_decision"], r["client_decision"])
        return f"{r['name']}: {decision}{' - ' + r['note'] if r['note'] else ''}"

    # Row by row, as the goals: which referral changed, not the whole list twice.
    old_referrals = {r["id"]: r for r in before.get("referrals", [])}
    kept = {r["id"] for r in after.get("referrals", [])}
    for referral in after.get("referrals", []):
        n = numbers.get(referral["id"], "")
        was = old_referrals.get(referral["id"])
        label = (_("Referral %(n)s") if was else _("Referral %(n)s (new)")) % {"n": n}
        add(label, referral_line(was) if was else "", referral_line(referral))
    for n, referral in enumerate(before.get("referrals", []), start=1):
        if referral["id"] not in kept:
            add(
                _("Referral removed (it was referral %(n)s)") % {"n": n},
                referral_line(referral),
                "",
            )
    add(
        _("What goes in the client's printed copy"),
        ", ".join(before.get("client_copy_sections") or []),
        ", ".join(after.get("client_copy_sections") or []),
    )
    add(
        _("The client's decision"),
        decisions.get((before.get("agreement") or {}).get("client_decision") or ""),
        decisions.get((after.get("agreement") or {}).get("client_decision") or ""),
    )
    return changes


def reviews_for(plan: TreatmentPlan) -> list[PlanReview]:
    return list(
        PlanReview.objects.filter(plan=plan).prefetch_related(
            Prefetch("ratings", queryset=GoalProgress.objects.order_by("goal__position"))
        )
    )


def review_representation(review: PlanReview) -> dict[str, Any]:
    return {
        "id": str(review.pk),
        "plan_version": review.plan_version,
        "created_at": review.created_at.isoformat(),
        "note": review.note,
        "goals": [
            {"goal": str(r.goal_id), "progress": r.progress, "client_note": r.client_note}
            for r in review.ratings.all()
        ],
    }


def goal_progress(plan: TreatmentPlan) -> dict[str, list[dict[str, Any]]]:
    """Each goal's ratings over the reviews, oldest first: {goal id: [{date, progress, ...}]}."""
    out: dict[str, list[dict[str, Any]]] = {}
    rows = (
        GoalProgress.objects.filter(review__plan=plan)
        .select_related("review")
        .order_by("review__created_at")
    )
    for row in rows:
        out.setdefault(str(row.goal_id), []).append(
            {
                "date": row.review.created_at.date().isoformat(),
                "progress": row.progress,
                "label": PROGRESS_LABELS[row.progress],
                "client_note": row.client_note,
            }
        )
    return out


def plans_due_for_review(*, membership: Membership, today: date) -> QuerySet[TreatmentPlan]:
    """The clinician's own plans (ones they drafted) whose review date has come, with no review
    recorded since."""
    reviewed = PlanReview.objects.filter(
        plan=OuterRef("pk"), created_at__date__gte=OuterRef("review_date")
    )
    return (
        plans_for(membership=membership)
        .filter(created_by_id=membership.user_id, review_date__lte=today)
        .exclude(Exists(reviewed))
        .select_related("client")
        .order_by("review_date")
    )
