"""The client's copy in a real browser: the client and clinician tick what goes home, ask for
the client's copy, and the PDF that downloads has exactly that."""

from pathlib import Path

import pytest

from documents import services as document_services
from documents.models import PlanDocument
from plans.models import TreatmentPlan
from tests.browser.conftest import assert_accessible
from tests.browser.test_wizard_browser import sign_in
from tests.documents.helpers import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ticking_a_section_puts_it_in_the_client_copy(page, alice, persona_plan, monkeypatch):
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)
    plan = persona_plan("continuing")
    sign_in(page, alice)
    page.goto(f"/plans/{plan.pk}/")
    section = page.locator("[data-copy-sections]")
    summary = section.locator("summary")
    assert "Your goals, Support, Services, Review and agreement" in summary.inner_text()
    summary.click()
    work = section.get_by_label("Your work: what you would like for your work", exact=False)
    assert not work.is_checked()  # private by default
    assert section.get_by_label("Your goals", exact=False).is_checked()
    assert_accessible(page)
    work.check()
    page.get_by_role("button", name="Save the plan").click()
    page.wait_for_load_state()
    assert page.get_by_text("Saved.").is_visible()
    assert "work" in TreatmentPlan.objects.get(pk=plan.pk).client_copy_sections

    form = page.locator("[data-pdf-request]")
    form.locator("summary").click()
    assert form.get_by_label("The client's copy", exact=False).is_checked()
    assert form.locator("input[name='sections'][value='work']").is_checked()
    form.get_by_role("button", name="Prepare a PDF of this version").click()
    page.wait_for_load_state()
    document = PlanDocument.objects.get()
    assert (document.copy, document.discreet) == ("client", False)
    assert document.sections == ["goals", "work", "supports", "referrals", "review"]
    document_services.document_render(document_id=str(document.pk), worker="w:1")
    page.goto(f"/plans/{plan.pk}/")
    with page.expect_download() as download:
        page.locator(f"[data-document='{document.pk}']").get_by_role(
            "link", name="Download"
        ).click()
    text = pdf_text(Path(download.value.path()).read_bytes())
    assert "cam work" in text  # the work section the client chose
    assert "Feel less drained after shifts" in text
    assert "What you already do to stay safe" not in text  # strengths were not ticked


def test_the_plan_page_previews_the_copy_that_goes_home(page, alice, persona_plan) -> None:
    """Going through the plan together, the client previews their own copy (the parts they
    chose), not the clinic's complete one; the clinic's is there too, for the record."""
    plan = persona_plan("continuing")
    sign_in(page, alice)
    page.goto(f"/plans/{plan.pk}/")
    page.locator("summary", has_text="Preview of the client's copy").click()
    client_copy = page.frame_locator('iframe[title="Preview of the client\'s copy"]')
    client_text = client_copy.locator("body").inner_text()
    assert "Feel less drained after shifts" in client_text  # their goals: chosen
    assert "What you already do to stay safe" not in client_text  # strengths: not chosen
    assert_accessible(page)
    clinic = page.locator("summary", has_text="Preview of the clinic's copy")
    clinic.scroll_into_view_if_needed()  # the open preview above moves it as it loads
    clinic.click()
    frame = 'iframe[title="Preview of the clinic\'s copy"]'
    page.locator(frame).scroll_into_view_if_needed()  # loaded when seen (loading="lazy")
    clinic_copy = page.frame_locator(frame)
    assert "What you already do to stay safe" in clinic_copy.locator("body").inner_text()
