"""Spanish, end to end: the client's language on the client, the wizard, the form definition and
the plan PDF; the client's own words and own term verbatim in whatever language they wrote."""

import gettext
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client as Browser
from pypdf import PdfReader

from documents.context import CopyOptions
from documents.render import html_to_pdf
from documents.services import plan_html
from intake.models import Intake
from plans.contract import COPY_SECTIONS, SECTION_CODES
from plans.models import TreatmentPlan
from plans.selectors import plan_representation
from plans.services import plan_update
from referrals.models import ReferralAgency
from tests.conftest import PERSONAS
from tests.factories import IntakeFactory
from tests.intake.test_wizard import post_step, step_url

pytestmark = pytest.mark.django_db

PO = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def _po_entries() -> dict[str, str]:
    """msgid (with its context, if any, as gettext keys it: "context\x04msgid") -> msgstr."""
    import ast

    def joined(lines: str) -> str:
        return "".join(ast.literal_eval(x) for x in lines.strip().split("\n"))

    text = PO.read_text()
    out = {}
    pattern = r'\n(?:msgctxt (".*")\n)?msgid ((?:".*"\n)+)msgstr ((?:".*"\n)+)'
    for context, ids, strs in re.findall(pattern, text):
        msgid = joined(ids)
        if msgid:
            key = f"{ast.literal_eval(context)}\x04{msgid}" if context else msgid
            out[key] = joined(strs)
    return out


def test_catalogue_is_complete_compiled_and_follows_the_guidelines() -> None:
    entries = _po_entries()
    assert len(entries) > 300
    assert not [k for k, v in entries.items() if not v], "untranslated entries"
    compiled = gettext.GNUTranslations(PO.with_suffix(".mo").open("rb"))
    stale = [k for k, v in entries.items() if compiled.gettext(k) != v]
    assert not stale, "django.mo is older than django.po: run compilemessages"
    spanish = " ".join(entries.values()).lower()
    assert "prostitu" not in spanish
    assert "víctima" not in spanish
    assert entries["Sex work"] == "Trabajo sexual"


# ---- the client's language on the client


def test_client_language_is_read_and_changed_through_the_api(alice, alices_client) -> None:
    url = f"/api/v1/clients/{alices_client.pk}/"
    assert alice.api.get(url).json()["language"] == "en"
    response = alice.api.patch(url, {"language": "es"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["language"] == "es"
    alices_client.refresh_from_db()
    assert alices_client.language == "es"


def test_client_created_with_a_language(alice) -> None:
    response = alice.api.post(
        "/api/v1/clients/", {"display_name": "Lucía", "language": "es"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["language"] == "es"
    bad = alice.api.post(
        "/api/v1/clients/", {"display_name": "Ana", "language": "xx"}, format="json"
    )
    assert bad.status_code == 400
    assert "language" in bad.json()["errors"]


def test_unknown_language_is_a_400_naming_the_field(alice, alices_client) -> None:
    url = f"/api/v1/clients/{alices_client.pk}/"
    response = alice.api.patch(url, {"language": "xx"}, format="json")
    assert response.status_code == 400
    assert "language" in response.json()["errors"]
    alices_client.refresh_from_db()
    assert alices_client.language == "en"


# ---- the form definition


def test_form_definition_in_spanish_keeps_codes_and_names(alice) -> None:
    english = alice.api.get("/api/v1/forms/couple/").json()
    spanish = alice.api.get("/api/v1/forms/couple/?lang=es").json()
    assert spanish["language"] == "es"

    def codes(body):
        return [
            (s["name"], f["name"], [c["code"] for c in f.get("choices", [])])
            for s in body["steps"]
            for f in s["fields"]
        ]

    assert codes(spanish) == codes(english)
    steps = {s["name"]: s for s in spanish["steps"]}
    assert steps["consent"]["title"] == "Antes de empezar"
    assert "confidencial" in steps["consent"]["intro"]
    assert "años" in steps["consent"]["intro"] or "días" in steps["consent"]["intro"]
    topics = next(f for f in steps["partner"]["fields"] if f["name"] == "couple_topics")
    assert "Trabajo sexual" in [c["label"] for c in topics["choices"]]
    worker = next(f for f in steps["partner"]["fields"] if f["name"] == "worker_description")
    assert worker["label"].startswith("Solo si elegisteis el trabajo como tema. Para la persona")
    about = next(f for f in steps["about"]["fields"] if f["name"] == "work_term")
    assert about["why"]
    assert "For the" not in about["why"]
    assert all(
        f["who_sees"].startswith(("Tú", "Solo")) for s in steps.values() for f in s["fields"]
    )
    text = str(spanish).lower()
    assert "prostitu" not in text


def test_form_definition_default_is_english_and_unknown_lang_is_400(alice) -> None:
    body = alice.api.get("/api/v1/forms/individual/").json()
    assert body["steps"][0]["title"] == "Before we start"
    response = alice.api.get("/api/v1/forms/individual/?lang=xx")
    assert response.status_code == 400
    assert "lang" in response.json()["errors"]


# ---- the wizard


@pytest.fixture
def spanish_intake(alices_client) -> Intake:
    alices_client.language = "es"
    alices_client.save()
    return IntakeFactory(client=alices_client)


def test_wizard_follows_the_clients_language(alice, spanish_intake) -> None:
    browser = Browser()
    browser.force_login(alice.user)
    page = browser.get(step_url(spanish_intake, "consent")).content.decode()
    assert '<html lang="es">' in page  # a screen reader reads it as Spanish
    assert "Antes de empezar" in page
    assert "Paso 1 de" in page
    assert "Por qué lo preguntamos" in page
    assert "Guardar y seguir" in page
    assert "Before we start" not in page
    response = post_step(browser, spanish_intake, "consent", {"recording_preference": "full"})
    assert "Marca esta casilla para seguir." in response.content.decode()


def test_wizard_asks_in_spanish_before_a_change_deletes_other_pages(alice, spanish_intake) -> None:
    browser = Browser()
    browser.force_login(alice.user)
    post_step(browser, spanish_intake, "consent", {"confidentiality_explained": "on"})
    post_step(browser, spanish_intake, "about", {"work_focus": "central"})
    post_step(browser, spanish_intake, "work_context", {"work_types": ["massage"]})
    page = post_step(browser, spanish_intake, "about", {"work_focus": "not_now"}).content.decode()
    assert "al guardarlo se quitarían:" in page
    assert "Salida rápida" in page  # the way out, in the client's language too
    assert "Guardar el cambio y quitar esas respuestas" in page
    assert "Save the change" not in page


@pytest.mark.parametrize("persona", ["couple_work", "continuing_hr", "leaving"])
def test_every_wizard_page_a_spanish_client_sees_is_spanish(alice, alices_client, persona) -> None:
    """Each page of the wizard, with a persona's answers saved (the review too), read as the
    client reads it: no English word in the page but the client's own."""
    from forms import STEPS_BY_NAME, client_steps, form_kwargs
    from forms.django_forms import validate_payload
    from intake.services import intake_start, intake_submit_step
    from tests.conftest import take_private_checks
    from tests.intake.test_wizard import visible_text

    alices_client.language = "es"
    alices_client.save()
    kind, steps = PERSONAS[persona]
    intake = intake_start(
        membership=alice.membership, actor=alice.user, client=alices_client, kind=kind
    )
    if kind == "couple":
        take_private_checks(intake, alice.user)
    for name, payload in steps.items():
        step = STEPS_BY_NAME[name]
        answers = validate_payload(step, payload, **form_kwargs(kind, intake.answers, step=step))
        intake_submit_step(intake=intake, step=step, answers=answers, actor=alice.user)
    intake.refresh_from_db()
    own = _words(json.dumps([intake.answers, alices_client.pronouns], ensure_ascii=False))
    browser = Browser()
    browser.force_login(alice.user)
    pages = [step_url(intake, step.name) for step in client_steps(kind, intake.answers)]
    for url in [*pages, f"/intakes/{intake.pk}/paused/"]:  # and "saved, carry on later"
        page = browser.get(url).content.decode()
        assert '<html lang="es">' in page
        text = visible_text(page.split("<body", 1)[1])  # the whole screen, header too
        english = (_words(text) & ENGLISH_ONLY) - own
        assert not english, (
            step.name,
            [re.findall(rf".{{0,50}}\b{w}\b.{{0,50}}", text) for w in english],
        )


def test_a_couples_page_before_the_checks_is_spanish(alice, alices_client) -> None:
    from tests.intake.test_wizard import visible_text

    alices_client.language = "es"
    alices_client.save()
    intake = IntakeFactory(client=alices_client, kind="couple")
    browser = Browser()
    browser.force_login(alice.user)
    post_step(browser, intake, "consent", {"confidentiality_explained": "on"})
    post_step(browser, intake, "partner", {"couple_topics": ["sex_work"]})
    response = browser.get(step_url(intake, "work_context") + "?again=1")
    assert response.status_code == 200
    page = response.content.decode()
    text = visible_text(page.split("<body", 1)[1])
    assert "Todavía no: la persona profesional que os atiende aún tiene que hablar" in text
    assert "Saltar estas preguntas por ahora" in text
    assert "Para la persona profesional que os atiende: las conversaciones por separado" in text
    assert not _words(text) & ENGLISH_ONLY


def test_a_couple_is_told_who_sees_their_answers_in_one_form_of_address(
    alice, alices_client
) -> None:
    """Both partners read "who sees this" together: addressed as the two of them (vosotros,
    as the couple's pages are), never "ustedes", never one of them ("tu", "tus"), with the
    clinician named without a gender."""
    from tests.intake.test_wizard import visible_text

    alices_client.language = "es"
    alices_client.save()
    intake = IntakeFactory(client=alices_client, kind="couple")
    browser = Browser()
    browser.force_login(alice.user)
    page = browser.get(step_url(intake, "about")).content.decode()
    text = visible_text(page.split("<body", 1)[1])
    assert (
        "Las dos personas de la pareja (cada una ve lo que responde la otra) y la persona "
        "profesional que os atiende"
    ) in text
    assert "La clínica también conecta otros sistemas, como su sistema de historias clínicas" in (
        text
    )
    said = [part.split(".", 2)[:2] for part in text.split("Quién ve esto:")[1:]]
    assert said  # each question's "who sees this"
    for sentences in said:
        for other in ("Ustedes", "ustedes", "su profesional", "tus respuestas", "Tu clínica"):
            assert other not in " ".join(sentences)


def test_a_couples_pages_are_titled_for_both_of_them(alice, alices_client) -> None:
    """A couple's step titles speak to the two of them, as their questions do: in the
    heading, the steps list and the review, in Spanish (vosotros) and in English."""
    from tests.intake.test_wizard import visible_text

    intake = IntakeFactory(client=alices_client, kind="couple")
    browser = Browser()
    browser.force_login(alice.user)

    def shown(step: str) -> str:
        page = browser.get(step_url(intake, step)).content.decode()
        return visible_text(page.split("<body", 1)[1])

    english = shown("about")
    assert "About you both" in english
    assert "both like to work on" in english  # in the steps list
    assert "Look over your answers together" in english
    alices_client.language = "es"
    alices_client.save()
    spanish = shown("about")
    for title in ("Quiénes sois", "Lo que queréis trabajar", "Repasad vuestras respuestas"):
        assert title in spanish
    for singular in ("Sobre ti", "Lo que quieres trabajar", "Repasa tus respuestas"):
        assert singular not in spanish
    assert "Quiénes sois" in shown("review")  # the review's headings too
    individual = IntakeFactory(client=alices_client)
    page = browser.get(step_url(individual, "about")).content.decode()
    assert "Sobre ti" in page  # one person: as before


def test_wizard_stays_english_for_an_english_client(alice, alices_client) -> None:
    intake = IntakeFactory(client=alices_client)
    browser = Browser()
    browser.force_login(alice.user)
    page = browser.get(step_url(intake, "consent")).content.decode()
    assert '<html lang="en">' in page
    assert "Before we start" in page
    assert "Antes de empezar" not in page


# ---- the plan PDF


def test_plan_pdf_in_spanish_with_the_clients_words_verbatim(alice, persona_plan) -> None:
    plan = persona_plan("continuing")  # work_term "cam work", an English goal
    plan.client.language = "es"
    plan.client.save()
    goal = plan.goals.first()
    plan_update(
        plan=plan,
        actor=alice.user,
        changes={
            "goals": [
                {
                    "id": goal.pk,
                    "client_words": "Quiero dormir mejor, 我想睡个好觉",
                    "steps": [
                        {"description": "Apagar el móvil", "who": "client"},
                        {"description": "Hablarlo", "who": "clinician", "frequency": "x"},
                    ],
                }
            ]
        },
    )
    plan.refresh_from_db()
    # The client's copy (with the work section the client chose to take home) is in Spanish.
    client_copy = CopyOptions.of(
        copy="client", discreet=False, sections=[code for code, _label in COPY_SECTIONS]
    )
    text = pdf_text(html_to_pdf(plan_html(plan, client_copy)))
    for heading in ("Plan de cuidado", "Tus objetivos", "Revisión y acuerdo", "Página 1 de"):
        assert heading in text, heading
    assert "Tu trabajo (tú lo llamas «cam work»)" in text  # the client's term, verbatim
    assert "Quiero dormir mejor" in text
    assert "Apagar el móvil (Yo)" in text  # who takes each step, in Spanish too
    assert "Hablarlo (Mi profesional, x)" in text
    assert "Your goals" not in text
    assert "Review and agreement" not in text
    assert "prostitu" not in text.lower()
    assert '<html lang="es">' in plan_html(plan, client_copy)
    # The clinic's copy is in the clinic's language; the client's words stay as written.
    clinic_text = pdf_text(html_to_pdf(plan_html(plan)))
    assert "Your goals" in clinic_text
    assert "Quiero dormir mejor" in clinic_text


def test_a_spanish_discreet_copy_is_headed_in_spanish_on_every_page(persona_plan) -> None:
    plan = persona_plan("continuing")
    plan.client.language = "es"
    plan.client.save()
    discreet = CopyOptions.of(copy="client", discreet=True, sections=["goals"])
    pages = PdfReader(io.BytesIO(html_to_pdf(plan_html(plan, discreet)))).pages
    for page in pages:
        text = page.extract_text()
        assert "Mi plan" in text
        assert "My plan" not in text
        assert "Care plan" not in text


# Words only English has (none is also a Spanish word, as "has", "he" or "me" are).
ENGLISH_ONLY = frozenset(
    re.findall(
        r"\w+",
        "the of and your you this with to is are we our for it that what when will be have not or"
        " from by an in on if can who which was were they them their there here about after"
        " before been should would could",
    )
)


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text)}


@pytest.mark.parametrize("discreet", [False, True])
@pytest.mark.parametrize("persona", list(PERSONAS))
def test_a_spanish_copy_has_no_english_of_its_own(alice, persona_plan, persona, discreet) -> None:
    """Every persona's client copy, with a decision, comment and signatures recorded, read back
    from the PDF: no English word in it but the client's own (their goals, terms, names)."""
    plan = persona_plan(persona)
    plan.client.language = "es"
    plan.client.save()
    agreement = {
        "client_decision": "wants_changes",
        "client_comment": "Cambiar el objetivo 2",
        "client_signed_name": "Ana",
        "clinician_signed_name": "Dra. Ruiz",
    }
    plan_update(plan=plan, actor=alice.user, changes={"agreement": agreement})
    plan.refresh_from_db()
    copy = CopyOptions.of(
        copy="client", discreet=discreet, sections=[code for code, _label in COPY_SECTIONS]
    )
    text = pdf_text(html_to_pdf(plan_html(plan, copy)))
    assert "Cambiar el objetivo 2" in text or discreet
    own = json.dumps(
        [plan_representation(plan), plan.intake.answers, plan.client.pronouns], ensure_ascii=False
    )
    english = (_words(text) & ENGLISH_ONLY) - _words(own)
    assert not english, [re.findall(rf".{{0,40}}\b{w}\b.{{0,40}}", text) for w in english]


def test_two_names_are_joined_in_the_copys_language() -> None:
    from django.utils import translation

    from documents.context import _both

    with translation.override("es"):
        assert _both(["Sam", "Alex"]) == "Sam y Alex"
        assert _both(["Sam", "Inés"]) == "Sam e Inés"  # "y" before the sound /i/
        assert _both(["Sam", "Hilda"]) == "Sam e Hilda"
        assert _both(["Sam", "Hierro"]) == "Sam y Hierro"  # "hie" is not that sound
    with translation.override("en"):
        assert _both(["Sam", "Inés"]) == "Sam and Inés"
    assert _both(["Sam"]) == "Sam"


def test_plan_pdf_stays_english_for_an_english_client(persona_plan) -> None:
    text = pdf_text(html_to_pdf(plan_html(persona_plan("continuing"))))
    assert "Your goals" in text
    assert "Tus objetivos" not in text


# ---- the FHIR Questionnaire


def test_fhir_questionnaire_carries_spanish_translation_extensions() -> None:
    import json

    from fhir_r4.mapping import TRANSLATION, questionnaire

    body = json.loads(questionnaire("individual", "https://fhir.example").model_dump_json())
    consent = body["item"][0]
    assert consent["text"] == "Before we start"  # the text itself stays as it was

    def spanish(element: dict) -> str:
        (ext,) = [e for e in element["extension"] if e["url"] == TRANSLATION]
        parts = {p["url"]: p for p in ext["extension"]}
        assert parts["lang"]["valueCode"] == "es"
        return parts["content"]["valueString"]

    assert spanish(consent["_text"]) == "Antes de empezar"
    intro = next(i for i in consent["item"] if i["linkId"] == "consent.intro")
    assert "confidencial" in spanish(intro["_text"])
    everything = json.dumps(body, ensure_ascii=False)
    assert "Escribir solo lo que necesita mi plan" in everything  # answer option displays
    assert "prostitu" not in everything.lower()


def test_the_plans_own_sentences_are_spanish_too(persona_plan) -> None:
    """Not only headings: what the plan says to the client (the safety offer, the help listed
    for each part) follows the client's language."""
    plan = persona_plan("violence_alone")
    plan.client.language = "es"
    plan.client.save()
    plan.refresh_from_db()
    client_copy = CopyOptions.of(
        copy="client", discreet=False, sections=[code for code, _label in COPY_SECTIONS]
    )
    text = pdf_text(html_to_pdf(plan_html(plan, client_copy)))
    assert "Nos contaste que" in text
    assert "You told us" not in text
    assert "Crisis lines" not in text


def spanish_copy_text(plan) -> str:
    """The words of the plan's client copy, every section in, once the client reads Spanish."""
    plan.client.language = "es"
    plan.client.save()
    plan.refresh_from_db()
    client_copy = CopyOptions.of(
        copy="client", discreet=False, sections=[code for code, _label in COPY_SECTIONS]
    )
    return " ".join(pdf_text(html_to_pdf(plan_html(plan, client_copy))).split())


def test_the_supports_in_a_spanish_plan_are_spanish(alice, persona_plan) -> None:
    plan = persona_plan("continuing")
    plan = plan_update(plan=plan, actor=alice.user, changes={"supports": ["friends", "peers"]})
    text = spanish_copy_text(plan)
    assert "Amistades" in text or "Amigos" in text, text
    assert "Friends" not in text


def test_referral_cautions_follow_the_clients_language(alice) -> None:
    from django.utils import translation

    from referrals.models import ReferralAgency
    from referrals.selectors import caution_lines

    agency = ReferralAgency.objects.create(
        clinic=alice.clinic, name="Casa", services=["housing"], requires_exit=True
    )
    with translation.override("es"):
        lines = caution_lines(agency, work_topic=True, work_term="la vida")
    text = " ".join(lines)
    assert "Este servicio espera que la gente deje su trabajo" in text
    assert "«la vida»" in text or "“la vida”" in text  # the client's own term, verbatim
    assert "Tú decides si lo usas o no." in text
    assert "This service" not in text


def test_the_clients_decision_on_each_service_is_in_spanish(alice, persona_plan) -> None:
    """Under "Services we talked about", each decision is said in the client's language."""
    from referrals.models import ReferralAgency

    for name in ("Casa Legal", "Línea Amiga", "Punto Legal"):
        ReferralAgency.objects.create(
            clinic=alice.clinic, name=name, services=["legal"], affirming_commitment=True
        )
    plan = persona_plan("violence_alone")
    accepted, declined, _undecided = plan.referrals.all()
    accepted.client_decision, declined.client_decision = "accepted", "declined"
    accepted.save()
    declined.save()
    text = spanish_copy_text(plan)
    for said in ("Decidiste usar este servicio", "Decidiste no usar este servicio"):
        assert said in text
    assert "Aún no lo has decidido" in text
    assert "decided" not in text


class _Shown(HTMLParser):
    """The words a person reads on a page: its text and the names read out (aria-label, title),
    not scripts, styles or the <template> rows copied in by "Add a goal"."""

    HIDDEN = {"script", "style", "template"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag in self.HIDDEN:
            self.depth += 1
        elif not self.depth:
            self.parts += [v for k, v in attrs if k in ("aria-label", "title") and v]

    def handle_endtag(self, tag) -> None:
        if tag in self.HIDDEN:
            self.depth -= 1

    def handle_data(self, data) -> None:
        if not self.depth:
            self.parts.append(data)


def shown_text(html: str) -> str:
    reader = _Shown()
    reader.feed(html)
    return re.sub(r"\s+", " ", " ".join(reader.parts))


def _spanish_plan(alice, persona_plan, persona: str):
    plan = persona_plan(persona)
    plan.client.language = "es"
    plan.client.save()
    plan_update(
        plan=plan,
        actor=alice.user,
        changes={"agreement": {"client_decision": "wants_changes", "client_signed_name": "Ana"}},
    )
    plan.refresh_from_db()
    return plan


def _own_words(plan) -> set[str]:
    """The plan's and intake's own content (goals, steps as drafted, names): not the product's."""
    return _words(
        json.dumps(
            [plan_representation(plan), plan.intake.answers, plan.client.display_name],
            ensure_ascii=False,
        )
    )


@pytest.mark.parametrize("persona", ["continuing", "couple_work"])
def test_a_spanish_clients_plan_page_is_in_spanish(alice, persona_plan, persona) -> None:
    """Clinician and client go through the plan on one screen: for a Spanish-speaking client
    the page is in Spanish (it was all English), with no English words of its own, and a link
    to show it in English for the clinician."""
    plan = _spanish_plan(alice, persona_plan, persona)
    answers = plan.intake.answers
    plan.intake.answers = {
        **answers,
        "supports": {**answers.get("supports", {}), "referral_needs": ["legal"]},
    }
    plan.intake.save()
    ReferralAgency.objects.create(clinic=alice.clinic, name="Casa Abierta", services=["legal"])
    browser = Browser()
    browser.force_login(alice.user)
    html = browser.get(f"/plans/{plan.pk}/").content.decode()
    assert '<html lang="es">' in html
    text = shown_text(html)
    for said in (
        "1. Objetivos",
        "El objetivo, con las palabras de la persona atendida",
        "5. La decisión de la persona atendida",
        "6. La copia impresa de la persona atendida",
        "Guardar el plan",
        "Salida rápida",
        "Casa Abierta Ofrece: ",  # the directory's suggestion, and why, in Spanish too
        "Sin revisar en los últimos 12 meses",
    ):
        assert said in text, said
    if persona == "couple_work":  # they decide and sign together, in the same fields
        assert "La decisión de la pareja sobre este plan tal como se muestra" in text
        assert "Estamos de acuerdo, con los cambios que pedimos" in text  # recorded, and a choice
        assert "Sus firmas: los dos nombres tal como los quieren en el plan (opcional)" in text
        assert "Estoy de acuerdo" not in text
    else:
        assert "Estoy de acuerdo, con los cambios que pedí" in text
    english = (_words(text) & ENGLISH_ONLY) - _own_words(plan)
    assert not english, [re.findall(rf".{{0,50}}\b{w}\b.{{0,50}}", text) for w in english]
    assert f'<a href="/plans/{plan.pk}/?lang=en" lang="en" hreflang="en">English</a>' in html


def test_the_plan_page_shown_in_english_stays_english_through_a_save(alice, persona_plan) -> None:
    plan = _spanish_plan(alice, persona_plan, "continuing")
    browser = Browser()
    browser.force_login(alice.user)
    page = browser.get(f"/plans/{plan.pk}/?lang=en")
    html = page.content.decode()
    assert '<html lang="en">' in html
    assert "Save the plan" in html
    assert f'action="/plans/{plan.pk}/?lang=en"' in html
    assert f'<a href="/plans/{plan.pk}/?lang=es" lang="es" hreflang="es">Español</a>' in html
    assert "Shown in another language than the client's. Show it in:" in html
    from tests.plans.test_web import read_form

    form = read_form(page)
    saved = browser.post(
        f"/plans/{plan.pk}/?lang=en", {**form, "safety_plan": "Llamar a Marta"}, follow=True
    )
    assert saved.redirect_chain[-1][0] == f"/plans/{plan.pk}/?lang=en"
    assert "Saved." in saved.content.decode()
    assert TreatmentPlan.objects.get(pk=plan.pk).safety_plan == "Llamar a Marta"


def test_what_to_fix_on_a_spanish_plan_page_is_said_in_spanish_and_the_api_stays_english(
    alice, persona_plan
) -> None:
    """The page's one definition (plans/contract.py) speaks the page's language; the API built
    from it keeps English for integrators, whatever the client's language."""
    from tests.plans.test_web import read_form

    plan = _spanish_plan(alice, persona_plan, "continuing")
    browser = Browser()
    browser.force_login(alice.user)
    form = read_form(browser.get(f"/plans/{plan.pk}/"))
    form["goal-0-client_words"] = ""
    form["goal-0-step-0-description"] = ""
    answer = browser.post(f"/plans/{plan.pk}/", form)
    assert answer.status_code == 400
    text = shown_text(answer.content.decode())
    assert "Todavía no se guardó nada: 1 cosa que revisar" in text
    assert (
        "Escribe el objetivo con las palabras de la persona, o marca «Quitar este objetivo»."
        in (text)
    )
    api = alice.api.patch(
        f"/api/v1/plans/{plan.pk}/",
        {"review_date": "1900-01-01"},
        format="json",
        HTTP_IF_MATCH=alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"],
    )
    assert api.status_code == 400
    assert api.json()["errors"]["review_date"][0].startswith("Check the year: a date from 2000")


def test_a_spanish_couples_copy_speaks_to_both_of_them(alice, persona_plan) -> None:
    """Read back from the PDF: the parts of a couple's copy that are about the two of them say
    "vosotros" (it said "tú" beside "vuestra relación"), the worker's own parts speak to the
    one whose work it is, and the English copy is unchanged."""
    plan = persona_plan("couple_work")
    plan.client.language = "es"
    plan.client.save()
    intake = plan.intake
    intake.answers = {**intake.answers, "stigma_coping": {"stigma_experiences": ["violence"]}}
    intake.save()
    agency = ReferralAgency.objects.create(clinic=alice.clinic, name="Casa Abierta")
    plan_update(
        plan=plan,
        actor=alice.user,
        changes={
            "referrals": [{"agency": str(agency.pk), "client_decision": "accepted"}],
            "agreement": {"client_decision": "agrees", "client_comment": "Vale"},
        },
    )
    plan.refresh_from_db()
    every = CopyOptions.of(copy="client", discreet=False, sections=list(SECTION_CODES))
    text = pdf_text(html_to_pdf(plan_html(plan, every)))
    for said in (
        "Este plan lo escribimos en común y es vuestro.",
        "Vuestros objetivos",
        "Vuestras fortalezas",
        "Decidisteis usar este servicio",
        "Nos contasteis que alguien os trató con violencia.",
        "Lo que otras personas os hicieron no fue culpa vuestra.",
        "Estuvisteis de acuerdo con este plan",
        "Vuestro comentario:",
        "no podemos decir cómo os tratarán",  # a service not checked lately: its caution
        "La decisión de usarlo o no es vuestra.",
    ):
        assert said in text, said
    for singular in (
        "es tuyo",
        "Tus objetivos",
        "Estuviste ",
        "Tu comentario",
        "Decidiste ",
        "te tratarán",
        "Tú decides",
    ):
        assert singular not in text, singular
    assert "Tu trabajo" in text  # the worker's own part, said to them
    plan.client.language = "en"
    plan.client.save()
    english = pdf_text(html_to_pdf(plan_html(plan, every)))
    assert "This plan was written together and belongs to you." in english
    assert "You agreed with this plan" in english


def test_an_english_clients_plan_shown_in_spanish_links_back_to_english(
    alice, persona_plan
) -> None:
    plan = persona_plan("continuing")
    browser = Browser()
    browser.force_login(alice.user)
    assert "page-language" not in browser.get(f"/plans/{plan.pk}/").content.decode()
    html = browser.get(f"/plans/{plan.pk}/?lang=es").content.decode()
    assert f'<a href="/plans/{plan.pk}/?lang=en" lang="en" hreflang="en">English</a>' in html


def test_what_to_fix_in_the_pdf_form_is_said_plainly_in_the_pages_language(
    alice, persona_plan
) -> None:
    """A passphrase too short: "Escribe al menos 4 caracteres" (DRF's own said "Asegúrese de
    que…", usted, beside a page in tú); the API says it in English."""
    plan = _spanish_plan(alice, persona_plan, "continuing")
    browser = Browser()
    browser.force_login(alice.user)
    answer = browser.post(
        f"/plans/{plan.pk}/pdf/", {"copy": "client", "passphrase": "abc"}, follow=True
    )
    assert "Contraseña: Escribe al menos 4 caracteres." in shown_text(answer.content.decode())
    api = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/", {"passphrase": "abc"}, format="json"
    )
    assert api.json()["errors"]["passphrase"] == ["Use at least 4 characters."]


def test_a_couples_wizard_pages_open_by_speaking_to_both(alice, alices_client) -> None:
    """Each page's opening words, said to the two of them (vosotros; they said "Dinos cómo
    quieres que te llamemos" under "Quiénes sois"), and in the couple's form definition and
    FHIR Questionnaire too; an individual's are unchanged."""
    from intake.services import intake_start
    from tests.intake.test_wizard import post_step, step_url

    alices_client.language = "es"
    alices_client.save()
    intake = intake_start(
        membership=alice.membership, actor=alice.user, client=alices_client, kind="couple"
    )
    browser = Browser()
    browser.force_login(alice.user)
    consent = {"confidentiality_explained": "on", "recording_preference": "full"}
    post_step(browser, intake, "consent", consent)
    said = {
        "consent": ("Lo que compartís aquí es confidencial", "Lo que compartes"),
        "about": ("Decidnos cómo queréis que os llamemos a cada persona.", "Dinos cómo quieres"),
        "goals": ("Con vuestras propias palabras, compartidos o de cada persona.", "Con tus"),
        "stigma_coping": ("no de quiénes sois.", "no de ti."),
        "supports": ("Quién y qué os ayuda a cada persona", "Quién y qué te ayuda"),
        "review": ("Revisadlo todo con la persona profesional que os atiende.", "Revísalo"),
    }
    for step, (theirs, singular) in said.items():
        text = shown_text(browser.get(step_url(intake, step)).content.decode())
        assert theirs in text, step
        assert singular not in text, step
    form = alice.api.get("/api/v1/forms/couple/?lang=es").json()
    intros = {s["name"]: s["intro"] for s in form["steps"]}
    assert intros["about"].startswith("Decidnos cómo queréis")
    assert "Vuestros registros se guardan" in intros["consent"]
    individual = alice.api.get("/api/v1/forms/individual/").json()
    assert {s["name"]: s["intro"] for s in individual["steps"]}["goals"] == (
        "In your own words. We will keep your words exactly as you write them."
    )
    questionnaire = alice.api.get("/fhir/Questionnaire/couple").json()
    assert "Tell us how each of you would like to be addressed." in json.dumps(questionnaire)
