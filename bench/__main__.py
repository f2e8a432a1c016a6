"""`make bench`: measured figures as ratios within one run (the machine is shared and noisy).

Runs against a throwaway test database on whatever DATABASE_URL / CELERY_BROKER_URL point at
(SQLite and the filesystem broker by default), with real worker processes.
"""

import asyncio
import contextlib
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "backend"), str(REPO)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
)


def emit(name: str, value: float | int | str) -> None:
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    print(f"{name}={text}", flush=True)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def quartile_ms(samples: list[float]) -> float:
    """The first quartile (the fastest quarter's upper bound), in milliseconds."""
    return statistics.quantiles(samples, n=4)[0] * 1000


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _render_many(args: tuple[str, int]) -> int:
    from documents.render import html_to_pdf

    html, count = args
    for _ in range(count):
        html_to_pdf(html)
    return count


def bare_throughput(html: str, processes: int, per_process: int) -> float:
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes) as pool:
        pool.map(_render_many, [(html, 2)] * processes)  # warm every process
        start = time.perf_counter()
        pool.map(_render_many, [(html, per_process)] * processes)
        return processes * per_process / (time.perf_counter() - start)


def chromium_figures(html: str, tabs: int, per_tab: int) -> tuple[float, float] | None:
    if not Path("/usr/bin/chromium").exists():
        return None
    from playwright.async_api import async_playwright

    async def run() -> tuple[float, float]:
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            pages = [await browser.new_page() for _ in range(tabs)]

            async def print_pdf(page) -> None:
                await page.set_content(html)
                await page.pdf(format="A4")

            for page in pages:
                await print_pdf(page)
            single = []
            for _ in range(per_tab):
                start = time.perf_counter()
                await print_pdf(pages[0])
                single.append(time.perf_counter() - start)

            async def loop(page) -> None:
                for _ in range(per_tab):
                    await print_pdf(page)

            start = time.perf_counter()
            await asyncio.gather(*(loop(page) for page in pages))
            rate = tabs * per_tab / (time.perf_counter() - start)
            await browser.close()
            return median_ms(single), rate

    return asyncio.run(run())


def main() -> None:
    from django.db import connection

    setup_test_environment()  # the test client's host, outbox and so on
    old = setup_databases(verbosity=0, interactive=False)
    try:
        run(connection)
    finally:
        teardown_databases(old, verbosity=0)


def wait_ready(ids: list[str], timeout: float = 600, every: float = 0.02) -> None:
    """Until every document is ready, counting them every `every` seconds (throughput runs look
    less often, so that the bench's own queries take little from the workers)."""
    from documents.models import PlanDocument

    deadline = time.monotonic() + timeout
    while PlanDocument.objects.filter(pk__in=ids, status="ready").count() < len(ids):
        if time.monotonic() > deadline:
            raise SystemExit("bench: documents did not finish in time")
        time.sleep(every)


def enqueue_fresh(plan, count: int) -> list[str]:
    """Documents with distinct content hashes, so none is deduplicated."""
    from django.db import transaction

    from documents.models import PlanDocument
    from documents.tasks import render_plan_document

    ids = []
    with transaction.atomic():
        for _ in range(count):
            doc = PlanDocument.objects.create(
                clinic_id=plan.clinic_id,
                plan=plan,
                plan_version=plan.version,
                content_hash=uuid.uuid4().hex,
            )
            ids.append(str(doc.pk))
    for doc_id in ids:
        render_plan_document.delay(doc_id)
    return ids


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status")
    if not status.exists():  # a recycled child
        return 0.0
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(connection) -> None:

    from config.celery import app
    from plans.services import plan_update
    from tests.conftest import make_persona
    from tests.factories import ClientFactory, ClinicFactory

    emit("database", connection.vendor)
    emit("broker", app.conf.broker_url.split(":")[0])
    persona = make_persona(ClinicFactory())
    client = ClientFactory(clinic=persona.clinic)
    client.care_team.add(persona.user)  # the API answers 404 to anyone off the care team
    from tests.conftest import PERSONAS, completed_plan

    kind, steps = PERSONAS["continuing"]
    plan = completed_plan(persona, client, kind, steps)
    # A lean three-page plan: ten goals with steps, strengths, supports and a safety plan.
    plan = plan_update(
        plan=plan,
        actor=persona.user,
        changes={
            "goals": [
                {
                    "client_words": f"Goal {i}: feel steadier day to day, in my own way",
                    "clinical_restatement": "Build routines that support rest and energy",
                    "steps": [
                        {
                            "description": "Plan one restful evening",
                            "who": "client",
                            "frequency": "weekly",
                        },
                        {
                            "description": "Check in about what worked",
                            "who": "clinician",
                            "frequency": "each session",
                        },
                    ],
                }
                for i in range(10)
            ],
            "safety_plan": "Call Jo; walk by the river; the peer line after 6pm.",
        },
    )
    # As a worker does once warm (documents.render.warm_up), so that the bare renders below
    # run with the worker's settings: the comparisons are the pipeline's cost, not the collector's.
    import gc

    gc.freeze()
    if wanted("core"):
        core_figures(persona, client, plan)
    if wanted("e2e"):
        client_e2e(persona, plan)
    if wanted("api"):
        api_figures(persona, plan)
    if wanted("export"):
        export_figure(persona, plan)
    if wanted("recycle"):
        recycled_worker_rss(plan)


def wanted(section: str) -> bool:
    """BENCH_ONLY=e2e,api runs only those sections (all by default)."""
    only = os.environ.get("BENCH_ONLY", "")
    return not only or section in only.split(",")


def core_figures(persona, client, plan) -> None:
    from django.test import Client as Browser
    from django.utils import timezone

    from config.celery import app
    from documents.models import PlanDocument
    from documents.render import PDF_OPTIONS, html_to_pdf
    from documents.services import document_request, plan_html
    from plans.services import plan_update
    from tests.conftest import start_worker, stop_worker
    from tests.factories import IntakeFactory

    html = plan_html(plan)
    import io

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(html_to_pdf(html))).pages)
    emit("plan_pages", pages)

    # Bare WeasyPrint on the preview HTML, in this process, warm.
    html_to_pdf(html)
    bare = median_ms(timed(lambda: html_to_pdf(html), 30))
    emit("bare_weasyprint_ms", bare)
    variant = PDF_OPTIONS.pop("pdf_variant")
    untagged = median_ms(timed(lambda: html_to_pdf(html), 30))
    PDF_OPTIONS["pdf_variant"] = variant
    emit("untagged_weasyprint_ms", untagged)
    emit("pdf_ua_cost_ratio", bare / untagged)
    cores = os.cpu_count() or 1
    bare_rate = bare_throughput(html, cores, 20)
    emit(f"bare_weasyprint_docs_per_s_{cores}proc", bare_rate)

    chromium = chromium_figures(html, cores, 20)
    if chromium:
        emit("chromium_print_ms", chromium[0])
        emit(f"chromium_docs_per_s_{cores}tabs", chromium[1])

    # Wizard step, server side (validation, encryption, audit), through the Django test client.
    intake = IntakeFactory(client=client)
    browser = Browser()
    browser.force_login(persona.user)
    data = {
        f"intake_{intake.pk}-current_step": "goals",
        "goals-client_goals": ["rest more", "see friends", "find a flat"],
        "goals-what_brings_you": "x" * 400,
    }
    url = f"/intakes/{intake.pk}/step/goals/"

    def post_step() -> None:
        response = browser.post(url, data)
        if response.status_code != 302:  # a figure for an error page would be worthless
            raise SystemExit(f"bench: wizard step answered {response.status_code}")

    post_step()
    emit("wizard_step_median_ms", median_ms(timed(post_step, 50)))

    # The language check on a 2,000-character clinician note (run on every pause in typing).
    from language.services import language_check

    note = (
        "Client reports feeling tired after late shifts and would like more rest. "
        "We talked about routines, friends and a budget review. "
    ) * 15
    note = note[:2000]
    language_check(clinic_id=persona.clinic.pk, text=note)
    emit(
        "language_check_2000_chars_ms",
        median_ms(timed(lambda: language_check(clinic_id=persona.clinic.pk, text=note), 200)),
    )
    # Precision and recall on the labelled sets (tune and held-out), and the bare check's time.
    from bench.language import figures as language_figures

    for name, value in language_figures().items():
        emit(name, value)

    # End to end: request -> ready with one warm worker, on the configured broker.
    app.control.purge()
    # This worker's child is never recycled, so that its growth per render can be measured;
    # recycled_worker_rss() below measures the configuration that runs in production.
    os.environ.update(WORKER_MAX_TASKS_PER_CHILD="1000000", WORKER_MAX_MEMORY_KIB="100000000")
    worker = start_worker(concurrency=1, name="bench", quiet=True)
    for name in ("WORKER_MAX_TASKS_PER_CHILD", "WORKER_MAX_MEMORY_KIB"):
        del os.environ[name]
    try:
        wait_ready(enqueue_fresh(plan, 3))
        samples = []
        for i in range(20):
            plan = plan_update(
                plan=plan, actor=persona.user, changes={"supports_notes": f"note {i}"}
            )
            # Timed from the request to the worker's own finished_at (same clock), so that
            # waiting here does not compete with the worker for the CPU.
            start = timezone.now()
            document, _ = document_request(plan=plan, actor=persona.user)
            wait_ready([str(document.pk)])
            document.refresh_from_db()
            samples.append((document.finished_at - start).total_seconds())
        e2e = median_ms(samples)
        bare_same = median_ms(timed(lambda: html_to_pdf(plan_html(plan)), 10))
        emit("end_to_end_ms", e2e)
        emit("end_to_end_over_bare_ratio", e2e / bare_same)
        emit(
            "repeat_request_ms",
            median_ms(timed(lambda: document_request(plan=plan, actor=persona.user), 30)),
        )

        # Throughput and CPU per document: one worker, two workers and bare WeasyPrint in one
        # and two processes, interleaved over rounds on the same plan's HTML.
        html = plan_html(plan)
        child = int(
            PlanDocument.objects.filter(status="ready")
            .order_by("-finished_at")
            .first()
            .claimed_by.rsplit(":", 1)[1]
        )
        rates: dict[str, list[float]] = {"one": [], "two": [], "bare1": [], "bare2": []}
        cpu_doc, cpu_bare = [], []
        per = int(os.environ.get("BENCH_WORKER_DOCS", "30"))
        for _ in range(int(os.environ.get("BENCH_WORKER_ROUNDS", "3"))):
            rates["bare1"].append(bare_throughput(html, 1, per // 2))
            before = cpu_seconds([child])
            start = time.perf_counter()
            wait_ready(enqueue_fresh(plan, per), every=0.1)
            rates["one"].append(per / (time.perf_counter() - start))
            cpu_doc.append((cpu_seconds([child]) - before) / per)
            start = time.process_time()
            for _ in range(10):
                html_to_pdf(html)
            cpu_bare.append((time.process_time() - start) / 10)
            rates["bare2"].append(bare_throughput(html, 2, per // 2))
            second = start_worker(concurrency=1, name="bench2", quiet=True)
            try:
                start = time.perf_counter()
                wait_ready(enqueue_fresh(plan, 2 * per), every=0.1)
                rates["two"].append(2 * per / (time.perf_counter() - start))
            finally:
                stop_worker(second)
        one, two = statistics.median(rates["one"]), statistics.median(rates["two"])
        emit("one_worker_docs_per_s", one)
        emit("two_workers_docs_per_s", two)
        emit("two_over_one_worker_ratio", two / one)
        emit("one_worker_over_bare_1proc_ratio", one / statistics.median(rates["bare1"]))
        emit("two_workers_over_bare_2proc_ratio", two / statistics.median(rates["bare2"]))
        emit("worker_cpu_ms_per_document", statistics.median(cpu_doc) * 1000)
        emit("bare_cpu_ms_per_render", statistics.median(cpu_bare) * 1000)
        emit("worker_cpu_over_bare_ratio", statistics.median(cpu_doc) / statistics.median(cpu_bare))

        rss_before = rss_mib(child)
        renders = int(os.environ.get("BENCH_RSS_RENDERS", "1000"))
        wait_ready(enqueue_fresh(plan, renders), timeout=3600)
        rss_after = rss_mib(child)
        emit("worker_rss_mib", rss_after)
        emit(f"worker_rss_growth_mib_per_{renders}", rss_after - rss_before)
        if chromium:
            emit("two_workers_over_chromium_tabs_ratio", two / chromium[1])
    finally:
        stop_worker(worker)


@contextlib.contextmanager
def web_server(persona):
    """gunicorn as `make run` starts it (2 processes x 8 threads), on the bench database."""
    import http.client
    import socket
    import subprocess

    from django.db import connection

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "WORKER_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "PYTHONPATH": os.pathsep.join([str(REPO / "backend"), str(REPO)]),
    }
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            f"--bind=127.0.0.1:{port}",
            "--workers=2",
            "--threads=8",
            "--worker-class=gthread",
            "--log-level=warning",
        ],
        cwd=REPO / "backend",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/me", headers=auth(persona))
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("bench: gunicorn did not start")
            time.sleep(0.2)
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def auth(persona) -> dict[str, str]:
    return {"Authorization": f"Bearer {persona.token}"}


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (children not counted)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists():
            fields = stat.read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def api_figures(persona, plan) -> None:
    """Reads under 8 concurrent clients against gunicorn, each beside the trivial `/me`, rounds
    interleaved: latency, throughput and the web processes' CPU per request."""
    import http.client
    import threading

    from tests.factories import ClientFactory

    ClientFactory.create_batch(60, clinic=persona.clinic)
    with web_server(persona) as (port, master):
        workers = _children(master)

        def load(path: str, clients: int = 8, each: int = 40) -> tuple[list[float], float]:
            samples: list[float] = []
            lock = threading.Lock()

            def run() -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                mine = []
                for _ in range(each):
                    start = time.perf_counter()
                    conn.request("GET", path, headers=auth(persona))
                    response = conn.getresponse()
                    response.read()
                    if response.status != 200:
                        raise SystemExit(f"bench: {path} answered {response.status}")
                    mine.append(time.perf_counter() - start)
                with lock:
                    samples.extend(mine)

            threads = [threading.Thread(target=run) for _ in range(clients)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return samples, clients * each / (time.perf_counter() - start)

        paths = {
            "trivial_drf": "/api/v1/me",
            "plan_detail": f"/api/v1/plans/{plan.pk}/",
            "client_list": "/api/v1/clients/?page_size=50",
        }
        samples: dict[str, list[float]] = {name: [] for name in paths}
        rates: dict[str, list[float]] = {name: [] for name in paths}
        cpu: dict[str, list[float]] = {name: [] for name in paths}
        for path in paths.values():
            load(path, clients=2, each=10)  # warm
        for _ in range(int(os.environ.get("BENCH_API_ROUNDS", "3"))):
            for name, path in paths.items():
                before = cpu_seconds(workers)
                got, rate = load(path)
                cpu[name].append((cpu_seconds(workers) - before) / len(got))
                samples[name] += got
                rates[name].append(rate)
        for name in paths:
            ordered = sorted(samples[name])
            emit(f"api_{name}_p50_ms", ordered[len(ordered) // 2] * 1000)
            emit(f"api_{name}_p99_ms", ordered[int(len(ordered) * 0.99) - 1] * 1000)
            emit(f"api_{name}_cpu_ms_per_request", statistics.median(cpu[name]) * 1000)
            emit(f"api_{name}_requests_per_s_8_clients", statistics.median(rates[name]))
        emit(
            "plan_detail_over_me_cpu_ratio",
            statistics.median(cpu["plan_detail"]) / statistics.median(cpu["trivial_drf"]),
        )
        emit(
            "plan_detail_over_me_throughput_ratio",
            statistics.median(rates["plan_detail"]) / statistics.median(rates["trivial_drf"]),
        )


def client_e2e(persona, plan) -> None:
    """What a client waits for: POST a PDF request over HTTP and have the PDF in hand, either
    fetching it with `?wait=` (two requests) or polling the status every 10 ms and then
    downloading. Each round renders fresh content, timed beside a bare WeasyPrint render of the
    same preview HTML in this process made just before it."""
    import http.client
    import json

    from config.celery import app
    from documents.models import PlanDocument
    from documents.render import html_to_pdf
    from documents.services import plan_html
    from plans.services import plan_update
    from tests.conftest import start_worker, stop_worker

    body = json.dumps({"copy": "clinic", "wording_reviewed": True})
    headers = {**auth(persona), "Content-Type": "application/json"}
    samples: dict[str, list[float]] = {"bare": [], "wait": [], "poll": []}
    stages: dict[str, list[float]] = {
        "post": [],
        "request_to_claim": [],
        "claim_to_stored": [],
        "stored_to_in_hand": [],
    }
    rounds = int(os.environ.get("BENCH_E2E_ROUNDS", "24"))
    # The rounds are shared among several worker starts, as one process can be a few per cent
    # faster or slower than the next for its whole life (memory layout, hash seeds).
    starts = max(1, int(os.environ.get("BENCH_E2E_WORKER_STARTS", "3")))
    with web_server(persona) as (port, _master):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def call(method: str, path: str, payload: str | None = None) -> tuple[int, bytes]:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()

        def fetch(wait: bool) -> tuple[float, str, dict[str, float]]:
            """Seconds from POST to PDF in hand, the document id, and wall-clock marks (the
            server's row timestamps are wall-clock too) for the stages."""
            marks = {"start": time.time()}
            start = time.perf_counter()
            status, raw = call("POST", f"/api/v1/plans/{plan.pk}/documents/", body)
            marks["posted"] = time.time()
            if status not in (200, 202):
                raise SystemExit(f"bench: documents POST answered {status}")
            doc = json.loads(raw)
            if wait:  # the download waits for the render (`?wait=`), as a client would
                status, pdf = call("GET", f"/api/v1/documents/{doc['id']}/pdf?wait=10")
            else:
                while doc["status"] in ("queued", "rendering"):
                    time.sleep(0.01)
                    doc = json.loads(call("GET", f"/api/v1/documents/{doc['id']}/")[1])
                status, pdf = call("GET", f"/api/v1/documents/{doc['id']}/pdf")
            if status != 200 or not pdf.startswith(b"%PDF"):
                raise SystemExit(f"bench: the PDF download answered {status}")
            marks["end"] = time.time()
            return time.perf_counter() - start, doc["id"], marks

        for block in range(starts):
            app.control.purge()
            worker = start_worker(concurrency=1, name=f"e2e{block}", quiet=True)
            conn.close()  # the server has let the idle connection go meanwhile: a new one
            try:
                fetch(True)  # warm: the web processes and the worker child
                for i in range(block, rounds, starts):
                    for mode in ("wait", "poll"):
                        plan = plan_update(
                            plan=plan,
                            actor=persona.user,
                            changes={"supports_notes": f"round {i} {mode}"},
                        )
                        html = plan_html(plan)
                        start = time.perf_counter()
                        html_to_pdf(html)
                        samples["bare"].append(time.perf_counter() - start)
                        took, doc_id, marks = fetch(mode == "wait")
                        samples[mode].append(took)
                        if mode == "wait":
                            row = PlanDocument.objects.get(pk=doc_id)
                            created = row.created_at.timestamp()
                            started = row.started_at.timestamp()
                            finished = row.finished_at.timestamp()
                            stages["post"].append(marks["posted"] - marks["start"])
                            stages["request_to_claim"].append(started - created)
                            stages["claim_to_stored"].append(finished - started)
                            stages["stored_to_in_hand"].append(marks["end"] - finished)
            finally:
                stop_worker(worker)
    bare = median_ms(samples["bare"])
    emit("client_bare_weasyprint_ms", bare)
    emit("client_e2e_wait_ms", median_ms(samples["wait"]))
    emit("client_e2e_poll_10ms_ms", median_ms(samples["poll"]))
    emit("client_e2e_wait_over_bare_ratio", median_ms(samples["wait"]) / bare)
    emit("client_e2e_poll_over_bare_ratio", median_ms(samples["poll"]) / bare)
    # The machine's speed changes within a second here (a bare render took 110 to 450 ms in one
    # run): the fastest quarter of each side is the same comparison with the least interference.
    emit(
        "client_e2e_wait_over_bare_fastest_quarter_ratio",
        quartile_ms(samples["wait"]) / quartile_ms(samples["bare"]),
    )
    # Where the time goes, in the order it passes (the first two overlap: the row is created
    # inside the POST, before its commit and the broker hop; the download's request is made
    # while the worker renders).
    for stage, values in stages.items():
        emit(f"client_e2e_stage_{stage}_ms", median_ms(values))


def _cold_export(persona, workers: int, count: int) -> float:
    """Seconds from the request to a ready zip, with no PDF rendered beforehand, spread over
    `workers` worker processes (one pool child each)."""
    from datetime import date

    from exports.models import ExportJob
    from exports.services import export_request

    from config.celery import app
    from documents.models import PlanDocument
    from documents.services import document_files_delete
    from tests.conftest import start_worker, stop_worker

    document_files_delete(
        list(PlanDocument.objects.exclude(file="").values_list("file", flat=True))
    )
    PlanDocument.objects.all().delete()  # cold: every plan renders again
    app.control.purge()
    started = [start_worker(concurrency=1, name=f"export{i}", quiet=True) for i in range(workers)]
    try:
        start = time.perf_counter()
        job = export_request(
            membership=persona.membership,
            actor=persona.user,
            day_from=date(2020, 1, 1),
            day_to=date(2029, 12, 31),
        )
        deadline = time.monotonic() + 3600
        while ExportJob.objects.get(pk=job.pk).status not in ("ready", "failed"):
            if time.monotonic() > deadline:
                raise SystemExit("bench: export did not finish in time")
            time.sleep(0.05)
        took = time.perf_counter() - start
        job = ExportJob.objects.get(pk=job.pk)
        if (job.status, job.done, job.total) != ("ready", count, count):
            raise SystemExit(f"bench: the export ended {job.status} with {job.done}/{job.total}")
        return took
    finally:
        for worker in started:
            stop_worker(worker)


def export_figure(persona, plan) -> None:
    """Cold bulk exports with one and two workers, interleaved over rounds."""
    from tests.conftest import PERSONAS, completed_plan
    from tests.factories import ClientFactory

    count = int(os.environ.get("BENCH_EXPORT_PLANS", "500"))
    rounds = int(os.environ.get("BENCH_EXPORT_ROUNDS", "2"))
    kind, steps = PERSONAS["continuing"]
    from plans.models import TreatmentPlan

    for _ in range(count - TreatmentPlan.objects.count()):
        client = ClientFactory(clinic=persona.clinic)
        client.care_team.add(persona.user)  # an export holds only the plans its asker may read
        completed_plan(persona, client, kind, steps)
    one, two = [], []
    for _ in range(rounds):
        one.append(_cold_export(persona, 1, count))
        two.append(_cold_export(persona, 2, count))
    emit(f"export_{count}_plans_1_worker_s", statistics.median(one))
    emit(f"export_{count}_plans_2_workers_s", statistics.median(two))
    emit("export_two_over_one_worker_ratio", statistics.median(one) / statistics.median(two))


def recycled_worker_rss(plan) -> None:
    """Worker memory over a long run with children recycled (WORKER_MAX_TASKS_PER_CHILD)."""
    from config.celery import app
    from tests.conftest import start_worker, stop_worker

    renders = int(os.environ.get("BENCH_RECYCLE_RENDERS", "5000"))
    app.control.purge()
    worker = start_worker(concurrency=1, name="recycle", quiet=True)
    try:
        peak = 0.0
        ids = enqueue_fresh(plan, renders)
        from documents.models import PlanDocument

        while PlanDocument.objects.filter(pk__in=ids, status="ready").count() < len(ids):
            peak = max(
                peak, max((rss_mib(pid) for pid in _children(worker.process.pid)), default=0)
            )
            time.sleep(0.5)
        emit(f"worker_child_peak_rss_mib_over_{renders}_recycled", peak)
        emit("worker_parent_rss_mib", rss_mib(worker.process.pid))
    finally:
        stop_worker(worker)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


if __name__ == "__main__":
    main()
