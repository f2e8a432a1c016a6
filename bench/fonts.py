"""The font stack for the client's words, measured: render time and process memory with the
packaged script faces (Arabic, Hebrew, Devanagari, Thai, CJK, emoji) against DejaVu Sans alone.

Each variant runs in a fresh process (its own cached FontConfiguration, as a worker child has), so
the first render shows the one-off cost of registering the faces and the later ones the steady cost.

    python -m bench.fonts
"""

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RENDERS = int(os.environ.get("BENCH_FONT_RENDERS", "30"))
WORDS = "我想睡个好觉 · أريد أن أنام جيدا · मुझे अच्छी नींद चाहिए · ฉันอยากนอนหลับให้ดี · 🌱"


def _html(css: str, scripts: bool) -> str:
    goals = "".join(
        f'<div class="goal"><h3>Goal {i}</h3><p class="words" dir="auto">'
        f"{WORDS if scripts else 'feel steadier day to day, in my own way'}</p>"
        "<ul><li>Plan one restful evening (you, weekly)</li></ul></div>"
        for i in range(10)
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Care plan</title>"
        f"<style>{css}</style></head><body><h1>Care plan</h1>"
        f"<h2>Your goals</h2>{goals}</body></html>"
    )


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _child(variant: str) -> None:
    sys.path.insert(0, str(REPO / "backend"))
    # The test settings: no secrets needed (with DATABASE_URL set, production settings ask for
    # a SECRET_KEY), and the same font configuration and templates.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    import django

    django.setup()
    from django.template import Context

    from documents.render import TEMPLATES_DIR, _engine, html_to_pdf

    css = _engine().from_string((TEMPLATES_DIR / "css" / "plan.css").read_text()).render(Context())
    if variant == "dejavu_only":  # the stylesheet as it was before the script faces
        css = re.sub(r'@font-face \{ font-family: "Plan (?!Sans)[^}]*\}\n', "", css)
    html = _html(css, scripts=False)
    rss_before = _rss_mib()
    start = time.perf_counter()
    html_to_pdf(html)
    first = (time.perf_counter() - start) * 1000
    samples = []
    for _ in range(RENDERS):
        start = time.perf_counter()
        html_to_pdf(html)
        samples.append((time.perf_counter() - start) * 1000)
    figures = {
        "first_render_ms": round(first, 1),
        "english_render_ms_median": round(statistics.median(samples), 1),
        "rss_growth_mib": round(_rss_mib() - rss_before, 1),
    }
    if variant == "stack":
        scripts = _html(css, scripts=True)
        html_to_pdf(scripts)
        samples = []
        for _ in range(RENDERS):
            start = time.perf_counter()
            html_to_pdf(scripts)
            samples.append((time.perf_counter() - start) * 1000)
        figures["all_scripts_render_ms_median"] = round(statistics.median(samples), 1)
        figures["rss_growth_after_scripts_mib"] = round(_rss_mib() - rss_before, 1)
    print(json.dumps(figures))


def main() -> None:
    for variant in ("dejavu_only", "stack"):
        out = subprocess.run(  # noqa: S603 - this interpreter, this module
            [sys.executable, "-m", "bench.fonts", "--child", variant],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for name, value in json.loads(out.strip().splitlines()[-1]).items():
            print(f"fonts_{variant}_{name}: {value}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
    else:
        main()
