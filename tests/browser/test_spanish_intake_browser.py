"""A Spanish-speaking client's intake, walked in a real browser: every page in Spanish (checked
with axe-core), their own words kept verbatim, whatever language they wrote them in."""

import pytest

from clients.models import Client
from intake.models import Intake
from plans.models import TreatmentPlan
from tests.browser.conftest import assert_accessible
from tests.browser.test_wizard_browser import sign_in, start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def siguiente(page, expected: str) -> None:
    page.get_by_role("button", name="Guardar y seguir").click()
    page.wait_for_url(f"**/step/{expected}/")
    assert_accessible(page)


def test_spanish_intake_in_the_browser(page, alice) -> None:
    sign_in(page, alice)
    # The clinician's home page is in their own language; they choose the client's.
    page.get_by_label("The client's language").select_option("es")
    start(page, "Lucía", "individual")
    assert Client.objects.get().language == "es"
    main = page.locator("main")
    assert page.get_by_role("heading", name="Antes de empezar").is_visible()
    assert page.get_by_text("Paso 1 de").is_visible()
    assert "confidencial" in main.inner_text()
    assert_accessible(page)
    page.get_by_label("Mi profesional me ha explicado la confidencialidad").check()
    page.get_by_label("Escribir solo lo que necesita mi plan").check()
    siguiente(page, "about")
    assert page.get_by_role("heading", name="Sobre ti").is_visible()
    page.get_by_label("Si haces trabajo sexual, ¿cómo llamas a tu trabajo?").fill("masajes")
    page.get_by_label("No tiene que ver con el motivo por el que vine").check()
    siguiente(page, "goals")
    page.get_by_label("Elemento 1", exact=True).fill("Dormir mejor")
    page.get_by_label("Elemento 2", exact=True).fill("我想找到一个新公寓 🏠")
    siguiente(page, "stigma_coping")
    text = main.inner_text()
    assert "Cómo te han tratado los demás" in text
    assert "prostitu" not in text.lower()
    page.get_by_label("El humor").check()
    siguiente(page, "supports")
    page.get_by_label("Amistades").check()
    siguiente(page, "review")
    assert page.get_by_text("Dormir mejor").is_visible()
    assert page.get_by_text("我想找到一个新公寓 🏠").is_visible()
    page.get_by_label("Lo hemos leído juntos").check()
    page.get_by_role("button", name="Terminar y preparar el plan").click()
    page.wait_for_url("**/plans/*/")
    # The plan page they land on, and its word of welcome, are in Spanish too.
    assert page.get_by_text(
        "Preguntas terminadas. Aquí está el borrador del plan para repasarlo en común."
    ).is_visible()
    assert page.get_by_role("heading", name="Plan de cuidado de Lucía").is_visible()
    plan = TreatmentPlan.objects.get()
    assert [g.client_words for g in plan.goals.all()] == ["Dormir mejor", "我想找到一个新公寓 🏠"]
    answers = Intake.objects.get().answers
    assert answers["stigma_coping"]["coping_strategies"] == ["humor"]  # codes, not labels
    assert answers["supports"]["current_supports"] == ["friends"]


def test_a_spanish_partners_private_check_in_the_browser(page, alice) -> None:
    """The partner reads their private check alone: in their language, checked with axe-core,
    with no English of the product's own on it, and the handover page after it the same."""
    from tests.i18n.test_spanish import ENGLISH_ONLY, _words

    sign_in(page, alice)
    page.get_by_label("The client's language").select_option("es")
    start(page, "Lucía y Marta", "couple")
    intake = Intake.objects.get()
    intake.answers = {**intake.answers, "about": {"partner_a_name": "Lucía"}}
    intake.save()
    page.goto(f"/intakes/{intake.pk}/private/private_check_a/")
    assert_accessible(page)
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Preguntas en privado con Lucía (la primera persona)"
    page.get_by_text("Por qué lo preguntamos").first.click()
    screen = page.locator("main").inner_text()
    assert "Se hace a solas con esta persona. Las respuestas son solo para el equipo" in screen
    assert "Nunca la pareja, nunca se imprime en el plan" in screen  # who sees this
    assert not _words(screen) & ENGLISH_ONLY, screen
    page.get_by_label("Sí", exact=True).check()
    page.get_by_role("button", name="Guardar").click()
    page.wait_for_url("**/private/private_check_a/?saved=1")
    assert_accessible(page)
    handover = page.locator("main").inner_text()
    assert "Por favor, devuelve la pantalla a la persona profesional que te atiende." in handover
    assert not _words(handover) & ENGLISH_ONLY, handover
