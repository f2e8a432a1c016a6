"""Web pages for a plan: view and edit it with the client, agree, and ask for the PDF."""

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import Membership
from accounts.permissions import membership_or_404, quick_save_caller, quick_save_token
from audit.services import audit_record
from documents.api import DocumentRequestSerializer, pdf_response
from documents.context import plan_names
from documents.models import DocStatus, PlanDocument
from documents.selectors import document_get
from documents.services import (
    FILE_UNREADABLE,
    DocumentFileLost,
    DocumentUnreadable,
    document_request,
)
from forms import work_is_a_topic, work_term
from language.services import plan_client_terms, plan_findings
from referrals.selectors import agencies_for, caution_lines, suggestions

from .contract import COPY_SECTIONS, COUPLE_DECISIONS, GOALS_MAX, STEPS_MAX, PlanInvalid
from .merge import merge_onto
from .models import ClientDecision, PlanDraft
from .selectors import goal_progress, plan_diff, plan_get, plan_representation
from .services import DRAFT_KEPT, StalePlan, plan_etag, plan_review_record, plan_update
from .web_forms import PlanEditor, base_from_token, base_token


def _editable(rep: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rep.items() if k != "versions"}


def _client_terms(plan: Any) -> str:
    """The client's own terms for the inline language check: never flagged (one definition,
    the language service's, so the editor and the PDF gate exempt the same words)."""
    return json.dumps(plan_client_terms(plan), ensure_ascii=False)


def _asked_language(request: HttpRequest) -> str:
    """A language the clinician chose for the plan page (`?lang=en`), or "" for the client's."""
    asked = request.GET.get("lang", "")
    return asked if asked in dict(settings.LANGUAGES) else ""


def _page_language(request: HttpRequest, plan: Any) -> str:
    """The plan is gone through with the client, on one screen: its page is in the client's
    language, unless the clinician asks for another, which then stays through saves."""
    return _asked_language(request) or plan.client.language


def _lang_query(request: HttpRequest) -> str:
    asked = _asked_language(request)
    return f"?lang={asked}" if asked else ""


def _here(request: HttpRequest, plan: Any) -> str:
    """The plan page's address, in the language it was asked in."""
    return reverse("plan-detail", args=[plan.pk]) + _lang_query(request)


def _render(
    request: HttpRequest,
    membership: Membership,
    plan: Any,
    editor: PlanEditor,
    *,
    status: int = 200,
    conflict: dict[str, Any] | None = None,
    started_from: tuple[str, str] | None = None,
    draft: PlanDraft | None = None,
) -> HttpResponse:
    """The plan page. `started_from`: the (version, base) an edit refused for a fix began from,
    kept on the page so that the corrected save is still checked against what its editor saw
    (the plan as it is now would make someone else's change since look like this editor's)."""
    rep = plan_representation(plan)
    version, base = started_from or (plan_etag(plan), base_token(plan_etag(plan), _editable(rep)))
    answers = plan.intake.answers
    topic, term = work_is_a_topic(answers), work_term(answers)
    needs = answers.get("supports", {}).get("referral_needs", [])
    progress = goal_progress(plan)
    for row in editor.goal_rows:
        if row.form.existing:
            row.progress = progress.get(str(row.form.initial["id"]), [])
    couple = plan.intake.kind == "couple"
    cautions = {
        str(r.pk): caution_lines(r.agency, work_topic=topic, work_term=term, couple=couple)
        for r in plan.referrals.all()
    }
    for form in editor.referral_forms:
        form.cautions = cautions.get(str(form.initial.get("id")), [])  # type: ignore[attr-defined]
    if couple:
        editor.speak_to_couple()
    return render(
        request,
        "plans/detail.html",
        {
            "plan": plan,
            "names": plan_names(plan),
            "rep": rep,
            "editor": editor,
            "etag": version,
            "base": base,
            "quick_save_token": quick_save_token(
                salt=QUICK_SAVE_SALT, request=request, p=str(plan.pk)
            ),
            "draft": draft,
            "client_terms": _client_terms(plan),
            "errors": editor.error_summary() if status == 400 else [],
            "conflict": conflict,
            "suggestions": suggestions(membership=membership, needs=needs),
            "documents": _documents(plan),
            "goals_max": GOALS_MAX,
            "steps_max": STEPS_MAX,
            "decision_labels": {
                **dict(ClientDecision.choices),
                **(COUPLE_DECISIONS if couple else {}),
            },
            "copy_sections": COPY_SECTIONS,
            "copy_home": [
                _section_title(label)
                for code, label in COPY_SECTIONS
                if code in plan.client_copy_sections
            ],
            "lang_query": _lang_query(request),
            "here": _here(request, plan),
            "languages": _other_languages(plan),
            "in_client_language": translation.get_language() == plan.client.language,
        },
        status=status,
    )


def _other_languages(plan: Any) -> list[tuple[str, str, str]]:
    """Links to the plan page in the client's language and in English, other than the one
    showing: (code, name, address). None for a client who speaks English, shown in English."""
    current = translation.get_language()
    if plan.client.language == settings.LANGUAGE_CODE == current:
        return []
    url = reverse("plan-detail", args=[plan.pk])
    names = dict(settings.LANGUAGES)
    return [
        (code, names[code], f"{url}?lang={code}")
        for code in (plan.client.language, settings.LANGUAGE_CODE)
        if code != current and code in names
    ]


def _agencies(membership: Membership) -> list[tuple[str, str]]:
    return [(str(a.pk), a.name) for a in agencies_for(membership=membership)]


@login_required
def plan_detail(request: HttpRequest, plan_id: str) -> HttpResponse:
    membership = membership_or_404(request)
    plan = plan_get(membership=membership, plan_id=plan_id)
    with translation.override(_page_language(request, plan)):
        return _plan_detail(request, membership, plan, plan_id)


def _plan_detail(
    request: HttpRequest, membership: Membership, plan: Any, plan_id: str
) -> HttpResponse:
    agencies = _agencies(membership)
    if request.method != "POST":
        draft = _draft(request, plan)
        if draft is not None and request.GET.get("draft") == "1":
            return _render_draft(request, membership, plan, draft, agencies)
        editor = PlanEditor(base=_editable(plan_representation(plan)), agencies=agencies)
        return _render(request, membership, plan, editor, draft=draft)
    base = base_from_token(request.POST.get("base", ""))
    if base is None:
        editor = PlanEditor(base=_editable(plan_representation(plan)), agencies=agencies)
        editor.non_field_errors.append(
            _("This page was out of date, so nothing was saved. Here is the plan as it is now.")
        )
        return _render(request, membership, plan, editor, status=400)
    editor = PlanEditor(base=base["rep"], agencies=agencies, data=request.POST)
    if_match = request.POST.get("version") or base["etag"]
    started_from = (if_match, request.POST["base"])
    if not editor.is_valid():
        return _render(request, membership, plan, editor, status=400, started_from=started_from)
    changes = editor.changes()
    ratings, review_note = editor.review()
    current = _editable(plan_representation(plan))
    others_saved = False  # a change this page did not show
    if if_match != plan_etag(plan):  # someone else saved since this page was opened
        others_saved = bool(plan_diff(base["rep"], current))
        merged = merge_onto(base["rep"], current, changes) if others_saved else changes
        if merged is not None:  # nothing changed by both: saved on top of theirs
            changes, if_match = merged, plan_etag(plan)
    try:
        with transaction.atomic():
            if changes:
                plan_update(plan=plan, actor=membership.user, changes=changes, if_match=[if_match])
            if ratings or review_note:
                plan_review_record(
                    plan=plan, actor=membership.user, goals=ratings, note=review_note
                )
    except StalePlan:
        return _conflict(request, membership, plan_id, editor, base["rep"], changes)
    except PlanInvalid as exc:
        if others_saved:  # the errors name rows of the save as merged: shown against the plan now
            return _conflict(request, membership, plan_id, editor, base["rep"], changes)
        editor.add_service_errors(exc.errors)
        return _render(request, membership, plan, editor, status=400, started_from=started_from)
    PlanDraft.objects.filter(plan=plan, author_id=request.user.pk).delete()  # saved, or let go
    if not changes and not ratings and not review_note:
        messages.info(request, _("Nothing was changed, so nothing needed saving."))
    elif others_saved and changes:
        # Their changes, numbered as the plan now shows them (with this save's edits in).
        theirs = plan_diff(
            base["rep"],
            current,
            shown=plan_representation(plan_get(membership=membership, plan_id=plan_id)),
        )
        messages.success(
            request,
            _(
                "Saved. Someone else saved this plan while you had it open, and changed other "
                "parts of it; their changes are kept as well: %(changes)s. Read them over with "
                "the client."
            )
            % {"changes": "; ".join(line["label"] for line in theirs)},
        )
    else:
        messages.success(request, _("Saved."))
    return redirect(_here(request, plan))


def _conflict(
    request: HttpRequest,
    membership: Membership,
    plan_id: str,
    editor: PlanEditor,
    began_on: dict[str, Any],
    changes: dict[str, Any],
) -> HttpResponse:
    """Someone else saved the same parts first: the plan as it is now, what they changed and
    this page's edits, not saved, to apply again."""
    fresh = plan_get(membership=membership, plan_id=plan_id)
    now = _editable(plan_representation(fresh))
    return _render(
        request,
        membership,
        fresh,
        PlanEditor(base=now, agencies=_agencies(membership)),
        status=409,
        conflict={
            "changed": plan_diff(began_on, now),
            "yours": editor.describe_changes(changes),
        },
    )


QUICK_SAVE_SALT = "plans.quick-save"
NOT_FORM_DATA = ("csrfmiddlewaretoken", "quick_save_token")


def _draft(request: HttpRequest, plan: Any) -> PlanDraft | None:
    """The caller's unsaved edits of this plan from a quick exit, unless past DRAFT_KEPT (the
    hourly purge erases those)."""
    draft = PlanDraft.objects.filter(plan=plan, author_id=request.user.pk).first()
    if draft is None or draft.updated_at < timezone.now() - DRAFT_KEPT:
        return None
    return draft


def _render_draft(
    request: HttpRequest,
    membership: Membership,
    plan: Any,
    draft: PlanDraft,
    agencies: list[tuple[str, str]],
) -> HttpResponse:
    """The editor as it was left: the edits typed, on the version they began from, so that
    saving them is checked against anyone else's changes since, as any save is."""
    data = QueryDict(mutable=True)
    for name, values in draft.form.items():
        data.setlist(name, values)
    base = base_from_token(data.get("base", ""))
    if base is None:  # from an older page, or damaged: nothing to show it on
        draft.delete()
        messages.info(request, _("The changes left unsaved could not be shown again."))
        return redirect(_here(request, plan))
    editor = PlanEditor(base=base["rep"], agencies=agencies, data=data)
    editor.is_valid()
    started_from = (str(data.get("version") or base["etag"]), str(data["base"]))
    messages.info(
        request,
        _(
            "These are the changes you had not saved when you left. Nothing is saved until you "
            "press Save; if someone else saved the plan meanwhile, you will be shown what changed."
        ),
    )
    return _render(request, membership, plan, editor, started_from=started_from)


@csrf_exempt  # authenticated by the signed token in the body, not by the session cookie
@require_POST
def plan_quick_save(request: HttpRequest) -> HttpResponse:
    """Quick exit from the plan editor keeps what was typed and not saved (sent with
    sendBeacon, which outlives the page), for its author alone, as a draft offered back on
    their next visit: nothing is written to the plan itself."""
    caller = quick_save_caller(request, salt=QUICK_SAVE_SALT)
    if caller is None:
        return HttpResponse(status=403)
    claim, membership = caller
    plan = plan_get(membership=membership, plan_id=claim["p"], contents=False)
    form = {k: request.POST.getlist(k) for k in request.POST if k not in NOT_FORM_DATA}
    with transaction.atomic():
        PlanDraft.objects.update_or_create(
            plan=plan, author=membership.user, defaults={"form": form}
        )
        audit_record(
            actor=membership.user,
            clinic_id=plan.clinic_id,
            action="update",
            obj=plan,
            client_id=plan.client_id,
            draft=True,
        )
    return HttpResponse(status=204)


@login_required
@require_POST
def plan_draft_discard(request: HttpRequest, plan_id: str) -> HttpResponse:
    plan = plan_get(membership=membership_or_404(request), plan_id=plan_id, contents=False)
    PlanDraft.objects.filter(plan=plan, author_id=request.user.pk).delete()
    with translation.override(_page_language(request, plan)):
        messages.info(request, _("The changes left unsaved were let go."))
    return redirect(_here(request, plan))


RETYPE_MESSAGE = gettext_lazy(
    "Type the passphrase again: this copy was asked for with one, and it is not made without "
    "it. To make a copy without a passphrase, go back to the plan."
)


# The PDF form's fields as the page names them (an error never shows a code).
PDF_FIELD_LABELS = {
    "copy": gettext_lazy("Which copy"),
    "discreet": gettext_lazy("Discreet copy"),
    "sections": gettext_lazy("Parts in the client's copy"),
    "passphrase": gettext_lazy("Passphrase"),
}


@login_required
@require_POST
def plan_request_pdf(request: HttpRequest, plan_id: str) -> HttpResponse:
    membership = membership_or_404(request)
    plan = plan_get(membership=membership, plan_id=plan_id)
    with translation.override(_page_language(request, plan)):
        return _request_pdf(request, membership, plan)


def _request_pdf(request: HttpRequest, membership: Membership, plan: Any) -> HttpResponse:
    body: dict[str, Any] = {
        "copy": request.POST.get("copy") or "client",
        "discreet": request.POST.get("discreet") == "1",
        "sections": request.POST.getlist("sections"),
    }
    if body["copy"] == "clinic":
        body.pop("sections")
    if request.POST.get("passphrase"):
        body["passphrase"] = request.POST["passphrase"]
    serializer = DocumentRequestSerializer(data=body)
    if not serializer.is_valid():
        for field, errors in serializer.errors.items():
            label = PDF_FIELD_LABELS.get(field, field)
            messages.error(request, f"{label}: {' '.join(str(e) for e in errors)}")
        return redirect(_here(request, plan))
    options = serializer.options(plan)
    findings = plan_findings(plan)
    # A copy asked for with a passphrase is never made without one: the passphrase is not kept
    # while the wording is reviewed, so going ahead needs it typed again.
    passphrase_missing = bool(request.POST.get("passphrase_wanted")) and "passphrase" not in body
    if findings and ("proceed" not in request.POST or passphrase_missing):
        # Show the wording suggestions first; the clinician may still go ahead.
        return render(
            request,
            "plans/review_wording.html",
            {
                "plan": plan,
                "findings": findings,
                "pdf_options": options,
                "pdf_passphrase_given": "passphrase" in body or passphrase_missing,
                "passphrase_error": RETYPE_MESSAGE if passphrase_missing else "",
                "lang_query": _lang_query(request),
                "here": _here(request, plan),
            },
            status=400 if passphrase_missing else 200,
        )
    _document, created = document_request(
        plan=plan,
        actor=membership.user,
        options=options,
        passphrase=serializer.validated_data.get("passphrase", ""),
    )
    messages.success(
        request,
        _("The PDF is being prepared.") if created else _("This version's PDF already exists."),
    )
    return redirect(_here(request, plan))


@login_required
def document_download(request: HttpRequest, document_id: str) -> HttpResponse:
    membership = membership_or_404(request)
    document = document_get(membership=membership, document_id=document_id)
    plan = document.plan
    with translation.override(_page_language(request, plan)):
        return _download(request, membership, document, plan)


def _download(
    request: HttpRequest, membership: Membership, document: PlanDocument, plan: Any
) -> HttpResponse:
    if document.status == DocStatus.READY:
        try:
            return pdf_response(request, document, membership.user)
        except DocumentFileLost:
            pass  # failed now, with what to do: said on the plan page below
        except DocumentUnreadable:
            document.error = FILE_UNREADABLE
    if request.method != "HEAD":  # a link checker's HEAD leaves no message for later
        if document.status in (DocStatus.QUEUED, DocStatus.RENDERING):
            messages.info(request, _("The PDF is still being prepared."))
        else:
            messages.error(request, document.error or _("This PDF is not available."))
    return redirect(_here(request, plan))


SECTION_LABELS = dict(COPY_SECTIONS)


def _section_title(label: Any) -> str:
    """A section's title: its label up to the colon ("Your goals"), in the active language."""
    return str(label).split(":")[0]


def _documents(plan: Any) -> list[PlanDocument]:
    """The plan's latest PDFs, each with the parts a client's copy holds named ("Your goals;
    Your work"), so that a copy with work in it is never taken for one without."""
    documents = list(PlanDocument.objects.filter(plan=plan).order_by("-created_at")[:10])
    for document in documents:
        document.parts = "; ".join(  # type: ignore[attr-defined]
            _section_title(SECTION_LABELS[code])
            for code in document.sections
            if code in SECTION_LABELS
        )
    return documents
