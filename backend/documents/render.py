"""The one place that calls WeasyPrint, and the only reader of plan_templates/.

Templates render with their own engine (auto-escaping on, one project filter: text_dir).
The URL fetcher serves the packaged assets from an allow-list and refuses everything else:
file:, http(s):, data:, redirects and attachments never reach the disk or the network.
"""

import gc
import logging
import mimetypes
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template import Context, Engine, Library
from weasyprint import CSS, HTML
from weasyprint.html import UA_COUNTER_STYLE
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

TEMPLATES_DIR = settings.REPO_DIR / "plan_templates"
ASSET_PREFIX = "asset:"
ASSET_DIRS = ("fonts",)
PDF_OPTIONS: dict[str, Any] = {"pdf_variant": "pdf/ua-1"}


class AssetRefused(ValueError):
    pass


ASSET_SUFFIXES = (".ttf", ".otf", ".woff2")


@cache
def _assets() -> dict[str, tuple[Path, str]]:
    """The allow-list: packaged font files by URL. Bytes are read only when a face is first used
    (the FontConfiguration is cached per worker, so each face is fetched once per process)."""
    assets = {}
    for folder in ASSET_DIRS:
        for path in sorted((TEMPLATES_DIR / folder).iterdir()):
            if path.is_file() and path.suffix in ASSET_SUFFIXES:
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                assets[f"{ASSET_PREFIX}{folder}/{path.name}"] = (path, mime)
    return assets


class AssetFetcher(URLFetcher):
    """Serves `asset:fonts/...` and `asset:css/...` from memory; refuses any other URL."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=(), allow_redirects=False)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        asset = _assets().get(url)
        if asset is None:
            raise AssetRefused("only packaged assets can be loaded")
        path, mime = asset
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})


@cache
def _lean_ua() -> CSS:
    return CSS(
        string=(TEMPLATES_DIR / "css" / "ua.css").read_text(), counter_style=UA_COUNTER_STYLE
    )


class PlanHTML(HTML):
    """HTML with a lean user-agent stylesheet (css/ua.css) in place of the full HTML5 one.

    Measured in `make bench`: the cascade is a large share of a small document's render time.
    `_ua_stylesheets` is WeasyPrint's own hook; WeasyPrint is pinned exactly and the reference
    renders in the tests show any change a new version brings.
    """

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return [_lean_ua()]


# The templates' one filter: `dir="{{ words|text_dir }}"` on the client's own words.
register = Library()


@register.filter
def text_dir(value: object) -> str:
    """What HTML's dir="auto" means, resolved here because WeasyPrint does not implement it:
    "rtl" when the first strongly directional character is right-to-left (Arabic, Hebrew...)."""
    for char in str(value or ""):
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


@cache
def _engine() -> Engine:
    return Engine(
        dirs=[str(TEMPLATES_DIR)],
        builtins=["documents.render"],
        libraries={"i18n": "django.templatetags.i18n"},
        autoescape=True,
        debug=False,
        string_if_invalid="",
        loaders=[
            ("django.template.loaders.cached.Loader", ["django.template.loaders.filesystem.Loader"])
        ],
    )


@cache
def _font_config() -> FontConfiguration:
    return FontConfiguration()


def render_html(template: str, context: dict[str, Any]) -> str:
    return _engine().get_template(template).render(Context(context))


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    return html_to_pdf(render_html(template, context))


def html_to_pdf(html: str) -> bytes:
    document = PlanHTML(string=html, base_url=ASSET_PREFIX, url_fetcher=AssetFetcher())
    pdf: bytes = document.write_pdf(font_config=_font_config(), **PDF_OPTIONS)
    return pdf


@cache
def templates_digest() -> str:
    """Changes whenever any file under plan_templates/ (or the pinned renderer) changes."""
    import hashlib

    import weasyprint

    digest = hashlib.sha256(weasyprint.__version__.encode())
    for path in sorted(TEMPLATES_DIR.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(TEMPLATES_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def template_for(kind: str) -> str:
    return "couple.html" if kind == "couple" else "individual.html"


def fast_font_subsetting() -> bool:
    """WeasyPrint subsets each embedded font with HarfBuzz when libharfbuzz-subset is there, and
    with fontTools otherwise: measured here, 600 ms of CPU per plan with fontTools against 160 ms
    with HarfBuzz, most of it decoding DejaVu's layout tables on every render."""
    from weasyprint.text.ffi import harfbuzz_subset

    return harfbuzz_subset is not None


def warm_up() -> None:
    """Load Pango, fonts and templates once in the worker parent, before the pool forks."""
    if not fast_font_subsetting():
        logger.warning(
            "libharfbuzz-subset is missing: each PDF will take about four times the CPU "
            "(install libharfbuzz-subset0, as the Makefile and the image do)"
        )
    _assets()
    render_pdf("individual.html", {"title": "Care plan", "goals": [], "kind": "individual"})
    # What is loaded by now lives as long as the worker: kept out of the collector's reach, so
    # that a child's collections walk only what its renders make and do not touch the pages it
    # shares with this parent (in a process with a large heap, collections took about a tenth
    # of a render's time here).
    gc.freeze()
