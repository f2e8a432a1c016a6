"""Real PDFs, read back: what they say, their metadata, and hostile text in them."""

import io
import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from documents.render import AssetFetcher, AssetRefused, html_to_pdf, render_pdf
from documents.services import plan_html
from plans.services import plan_update
from tests.documents.helpers import pdf_metadata, pdf_text

pytestmark = pytest.mark.django_db


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize(
    ("persona", "must", "must_not"),
    [
        (
            "not_a_topic",
            ["Get my sleep back", "Text Jo, walk by the river", "Humour"],
            ["sex", "escort", "PRIVATE-REFLECTION", "exit", "leaving"],
        ),
        (
            "continuing",
            ["Your cam work", "Keep going as I am", "Protecting my privacy"],
            ["sex work", "exit", "leaving", "Making a change"],
        ),
        (
            "leaving",
            ["Making a change, at your pace", "Finish my nursing course", "record relief"],
            ["relapse", "benefits of leaving"],
        ),
        (
            "couple",
            ["Polyamorous", "It is a job I am good at", "I worry what my parents think"],
            ["sex work"],
        ),
    ],
)
def test_persona_pdfs_say_what_they_must_and_nothing_they_must_not(
    persona_plan, persona, must, must_not
) -> None:
    plan = persona_plan(persona)
    text = squash(pdf_text(html_to_pdf(plan_html(plan))))
    for phrase in must:
        assert phrase in text
    for phrase in must_not:
        assert phrase.lower() not in text.lower()


def test_metadata_is_neutral(persona_plan, alices_client) -> None:
    pdf = html_to_pdf(plan_html(persona_plan("continuing")))
    meta = pdf_metadata(pdf)
    assert meta.get("/Title") == "Care plan"
    assert "/Author" not in meta
    assert "/Subject" not in meta
    assert "/Keywords" not in meta
    flat = " ".join(str(v) for v in meta.values()).lower()
    for word in (alices_client.display_name.lower(), "cam", "sex"):
        assert word not in flat


def test_pdf_is_tagged_for_accessibility(persona_plan) -> None:
    reader = PdfReader(io.BytesIO(html_to_pdf(plan_html(persona_plan("continuing")))))
    assert bool(reader.trailer["/Root"]["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in reader.trailer["/Root"]


HOSTILE = [
    '<img src="file:///etc/hostname">',
    '<a rel="attachment" href="file:///etc/passwd">passwd</a>',
    "<style>body{display:none}</style>",
    "{{ request }} {% load static %}",
    '"><script>alert(1)</script>',
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_client_text_renders_as_text_and_fetches_nothing(alice, persona_plan, payload) -> None:
    plan = persona_plan("not_a_topic")
    goal = plan.goals.first()
    plan_update(
        plan=plan,
        actor=alice.user,
        changes={"goals": [{"id": goal.pk, "client_words": payload}], "safety_plan": payload},
    )
    pdf = html_to_pdf(plan_html(plan))
    reader = PdfReader(io.BytesIO(pdf))
    assert squash(payload) in squash(pdf_text(pdf))
    assert "/EmbeddedFiles" not in str(reader.trailer["/Root"].get("/Names", {}))
    for page in reader.pages:
        xobjects = page["/Resources"].get("/XObject", {})
        assert not any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1/",
        "https://x.test/a.css",
        "data:text/css,body{}",
        "asset:../settings.py",
        "asset:fonts/../../backend/config/settings.py",
    ],
)
def test_fetcher_refuses_everything_but_packaged_assets(url) -> None:
    with pytest.raises(AssetRefused):
        AssetFetcher().fetch(url)


def test_fetcher_serves_the_bundled_font() -> None:
    response = AssetFetcher().fetch("asset:fonts/DejaVuSans.ttf")
    assert response.read()[:4] == b"\x00\x01\x00\x00"


def test_an_image_pointing_at_a_local_file_is_not_embedded() -> None:
    pdf = html_to_pdf(
        '<html><body><p>x</p><img src="file:///usr/share/pixmaps/debian-logo.png"></body></html>'
    )
    for page in PdfReader(io.BytesIO(pdf)).pages:
        assert not page["/Resources"].get("/XObject")


REFERENCE = Path(__file__).parent / "reference"
REFERENCE_CONTEXT = {
    "title": "Care plan",
    "name": "Sam",
    "pronouns": "she/her",
    "version": 2,
    "agreed": True,
    "updated": "2026-01-01",
    "review_date": "2026-04-01",
    "goals": [
        {
            "client_words": f"Goal words {i}",
            "clinical_restatement": "Restated",
            "target_date": "2026-03-01",
            "steps": [{"description": "A step", "who": "Me", "frequency": "weekly"}],
        }
        for i in range(3)
    ],
    "strengths_coping": ["Humour"],
    "strengths_precautions": ["Screening clients"],
    "supports": ["Friends"],
    "safety_plan": "Call Jo",
    "referral_needs": ["Housing"],
    "work": {"term": "dancing", "direction": "Keep going as I am"},
    "couple": {
        "structure": ["Open"],
        "topics": ["Trust"],
        "partner_words": "Partner words",
        "worker_words": "Worker words",
    },
    "agreement": {"client_decision": "agrees", "agreed_at": "2026-01-01T10:00:00"},
}


@pytest.mark.parametrize("template", ["individual.html", "couple.html"])
def test_reference_layout(template: str) -> None:
    """Text with its layout, per template: a WeasyPrint or template change shows as a diff.
    Regenerate on purpose with UPDATE_REFERENCE=1 and review the diff."""
    reader = PdfReader(io.BytesIO(render_pdf(template, REFERENCE_CONTEXT)))
    layout = "\f".join(page.extract_text(extraction_mode="layout") for page in reader.pages)
    layout = "\n".join(line.rstrip() for line in layout.splitlines()) + "\n"
    path = REFERENCE / f"{template}.txt"
    if os.environ.get("UPDATE_REFERENCE") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(layout)
    assert layout == path.read_text()
