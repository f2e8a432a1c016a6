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


def quoted_only(text: str, term: str) -> bool:
    """The client's term appears only as a quoted label, never slotted into a sentence."""
    return text.count(term) == text.count(f"(you call it \u201c{term}\u201d)")


@pytest.mark.parametrize(
    ("persona", "must", "must_not"),
    [
        (
            "not_a_topic",
            [
                "Get my sleep back",
                "Text Jo, walk by the river",
                "Humour",
                "Focusing on your future",
            ],
            ["sex", "escort", "PRIVATE-REFLECTION", "exit", "leaving", "work self"],
        ),
        (
            "continuing",
            [
                "Your work (you call it \u201ccam work\u201d)",
                "Keep going as you are",
                "Protecting your privacy",
                "Keeping your work self and your other self apart",
            ],
            ["sex work", "exit", "leaving", "Making a change", "Your cam work", "as I am", " my "],
        ),
        (
            "leaving",
            ["Making a change, at your pace", "Finish my nursing course", "record relief"],
            ["relapse", "benefits of leaving"],
        ),
        (
            # A couple who did not choose work: both named, nothing about work anywhere.
            "couple",
            [
                "Care plan for Sam and Alex",
                "Sam (she/her)",
                "Alex (they/them)",
                "Polyamorous",
                "I worry what my parents think",
                "For the partner: how others have treated you",
                "Family or friends pulled away from you",
                "Some time with your clinician on your own",
                "Keeping different parts of your life apart",
            ],
            [
                "sex work",
                "How you see your work",
                "Your work",
                "work self",
                "stay safe",
                "exit",
                "River",
            ],
        ),
        (
            # A couple who chose work: the worker's account, the term as a quoted label.
            "couple_work",
            [
                "Care plan for Sam and Alex",
                "Work (you call it \u201cthe life\u201d)",
                "How you see your work, in your own words",
                "It is a job I am good at",
                "Your work (you call it \u201cthe life\u201d)",
                "Screening clients",
            ],
            ["Your the life", "exit", "leaving", "Making a change"],
        ),
        (
            # Continuing with changed conditions: harm reduction as substantial as exit planning.
            "continuing_hr",
            [
                "Your work (you call it \u201cprovider\u201d)",
                "Change how or where you work",
                "Looking after yourself in your work",
                "What you would like to strengthen",
                "Checking in with a friend after each booking",
                "Feeling less worn out",
                "Keeping the boundaries you want",
                "Sexual health",
                "Opening or keeping a bank account",
                "With the police",
                "With landlords and housing",
                "What you would like to change, and how",
                "Work from a shared flat with a friend",
            ],
            ["exit", "leaving", "Making a change", "Your provider", "kinds of provider"],
        ),
        (
            # Violence, police harm and no one to turn to: an offer, never a requirement.
            "violence_alone",
            [
                "Support to stay safe, if you want it",
                "You told us that someone was violent towards you, that you were treated badly "
                "by police and that you have no one to turn to right now.",
                "not your fault",
                "Peer-led services",
                "Bad-date reporting",
                "Legal help",
                "Crisis lines",
                "This is an offer, not a requirement.",
                "Your work (you call it \u201cI'm a sex worker\u201d)",
                "You haven't decided yet",
            ],
            ["exit", "leaving", "victim", "Your I'm a sex worker", "because of your I'm"],
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
    term = plan.intake.answers.get("about", {}).get("work_term")
    if term:
        assert quoted_only(text, term)


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
    "work": {
        "term": "dancing",
        "heading": "Your work (you call it \u201cdancing\u201d)",
        "direction": "Keep going as you are",
    },
    "harm_reduction": {
        "strengthen": "Strengthen words",
        "occupational": ["Rest and time off"],
        "sexual_health": True,
        "money": ["Saving"],
        "rights": ["With the police"],
        "change_what": "Change words",
        "occupational_help": "Occupational help.",
        "sexual_health_help": "Sexual health help.",
        "money_help": "Money help.",
        "rights_help": "Rights help.",
    },
    "safety": {
        "told": "You told us that you have no one to turn to right now.",
        "harmed": False,
        "offers": ["Peer support."],
        "services": ["Peer Place"],
    },
    "couple": {
        "structure": ["Open"],
        "topics": ["Trust"],
        "partner_words": "Partner words",
        "partner_stigma": ["People judged you"],
        "partner_support": ["Information about services and rights"],
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


def test_fonts_are_subset_by_harfbuzz_not_fonttools() -> None:
    """Without libharfbuzz-subset WeasyPrint falls back to fontTools: the same PDF for about four
    times the CPU (`make bench`). The Makefile and the image install it."""
    from documents.render import fast_font_subsetting

    assert fast_font_subsetting(), "install libharfbuzz-subset0 (make render-deps)"


def test_the_clients_spaces_and_line_breaks_are_printed_as_written(alice, persona_plan) -> None:
    """Verbatim is more than the letters: spaces the client typed in a row, and each line of a
    safety plan written one step per line, come out of the PDF as they went in."""
    plan = persona_plan("not_a_topic")
    goal = plan.goals.first()
    plan = plan_update(
        plan=plan,
        actor=alice.user,
        changes={
            "goals": [{"id": goal.pk, "client_words": "be   proud"}],
            "safety_plan": "Text Jo\nWalk by the river\nCall the peer line",
        },
    )
    lines = [line.strip() for line in pdf_text(html_to_pdf(plan_html(plan))).splitlines()]
    assert "be   proud" in lines
    at = lines.index("Text Jo")
    assert lines[at : at + 3] == ["Text Jo", "Walk by the river", "Call the peer line"]
