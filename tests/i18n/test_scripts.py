"""The client's own words in any script print in the PDF: read back exactly, set in a packaged face
that covers the script (no empty boxes), right-to-left text marked right-to-left."""

import io
import shutil
import subprocess
import unicodedata

import pytest
from pypdf import PdfReader

from documents.render import AssetFetcher, html_to_pdf, text_dir
from documents.services import plan_html
from plans.services import plan_update

pytestmark = pytest.mark.django_db

# Each script's words, and the packaged face that must carry them.
WORDS = {
    "chinese": ("我想睡个好觉\uff0c每天都有力气", "Plan-CJK"),
    "japanese": ("よく眠りたい", "Plan-CJK"),
    "korean": ("잘 자고 싶어요", "Plan-CJK"),
    "arabic": ("أريد أن أنام جيدا", "Plan-Arabic"),
    "hebrew": ("אני רוצה לישון טוב", "Plan-Hebrew"),
    "hindi": ("मुझे अच्छी नींद चाहिए", "Plan-Devanagari"),
    "thai": ("ฉันอยากนอนหลับให้ดี", "Plan-Thai"),
    "cyrillic": ("Хочу снова высыпаться", "Plan-Sans"),
    "emoji": ("🌱💪🏽", "Plan-Emoji"),
}
# pypdf cannot map the CJK face's CFF glyphs back to text; poppler's pdftotext can.
NEEDS_POPPLER = {"chinese", "japanese", "korean"}
BIDI_MARKS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u200e\u200f"))


def _pdf_for(plan, actor, words: str) -> bytes:
    goal = plan.goals.first()
    plan_update(
        plan=plan,
        actor=actor,
        changes={"goals": [{"id": goal.pk, "client_words": words}], "safety_plan": words},
    )
    plan.refresh_from_db()
    return html_to_pdf(plan_html(plan))


def _pypdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def _poppler_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode().translate(BIDI_MARKS)


def _fonts(pdf: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(pdf))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.mark.parametrize("script", list(WORDS))
def test_client_words_in_every_script_read_back_exactly(
    script, persona_plan, alice, caplog
) -> None:
    words, face = WORDS[script]
    if script in NEEDS_POPPLER and not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed: `make browser-deps`")
    plan = persona_plan("not_a_topic")
    with caplog.at_level("WARNING", logger="weasyprint"):
        pdf = _pdf_for(plan, alice.user, words)
    text = _poppler_text(pdf) if script in NEEDS_POPPLER else _pypdf_text(pdf)
    assert _nfc(words) in _nfc(text)
    assert face in _fonts(pdf)
    # No empty boxes: WeasyPrint warns whenever it has to draw .notdef for a character.
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()]


def test_english_plan_embeds_no_script_faces(persona_plan) -> None:
    """Faces are used only when needed: an English plan embeds DejaVu alone."""
    pdf = html_to_pdf(plan_html(persona_plan("not_a_topic")))
    assert _fonts(pdf) <= {"Plan-Sans", "Plan-Sans-Bold"}


def test_right_to_left_words_are_marked_right_to_left(persona_plan, alice) -> None:
    plan = persona_plan("not_a_topic")
    goal = plan.goals.first()
    plan_update(
        plan=plan,
        actor=alice.user,
        changes={"goals": [{"id": goal.pk, "client_words": "أريد أن أنام جيدا"}]},
    )
    plan.refresh_from_db()
    html = plan_html(plan)
    assert 'class="words" dir="rtl">أريد' in html
    assert 'dir="rtl">Get my sleep back' not in html


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("أريد أن أنام", "rtl"),
        ("אני רוצה", "rtl"),
        ("123 أريد", "rtl"),  # digits are weak: the first letter decides
        ("Sleep, أريد", "ltr"),
        ("我想睡", "ltr"),
        ("", "ltr"),
        (None, "ltr"),
    ],
)
def test_text_dir_is_html_dir_auto(text, direction) -> None:
    assert text_dir(text) == direction


@pytest.mark.parametrize(
    "name",
    [
        "NotoSansArabic-Regular.ttf",
        "NotoSansHebrew-Bold.ttf",
        "NotoSansDevanagari-Regular.ttf",
        "NotoSansThai-Regular.ttf",
        "NotoSansCJK-Regular-subset.otf",
        "NotoEmoji-Regular.ttf",
    ],
)
def test_fetcher_serves_the_script_faces(name) -> None:
    response = AssetFetcher().fetch(f"asset:fonts/{name}")
    assert response.read()[:4] in (b"\x00\x01\x00\x00", b"OTTO")


def test_font_faces_are_fetched_once_per_process_not_per_render(persona_plan, monkeypatch) -> None:
    html = plan_html(persona_plan("not_a_topic"))
    html_to_pdf(html)  # this process's font configuration now has every face
    fetched: list[str] = []
    original = AssetFetcher.fetch

    def counting(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(AssetFetcher, "fetch", counting)
    html_to_pdf(html)
    html_to_pdf(html.replace("Get my sleep back", "我想睡个好觉"))
    assert fetched == []
