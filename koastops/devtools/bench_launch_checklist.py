"""The launch checklist's part of ``manage.py bench``: a launch with 50 ads (50 distinct
landing URLs) checked end to end through a real Celery worker, against the same checks
executed inline in one process (``runner.run_inline``). Target: the run ends within 2 s.

- The launch belongs to its own brand (slug ``launchbench``, outside the ``bench-``
  brands), with one ad account, a pixel linked to it, an active "Purchase" event and
  market DE; the bench user is the brand's only ops lead (so no review notification or
  email is sent). Seeded once, like the rest of the bench dataset.
- The landing URLs point at a local HTTPS server (127.0.0.1, a random port, a throwaway CA
  the fetcher trusts through SSL_CERT_FILE) whose pages
  contain the pixel id; the worker is started with ``SAFE_FETCH_ALLOWED_HOSTS`` naming it,
  so the landing check fetches them there. No network.
- ``worker``: a ``celery worker`` subprocess (prefork, ``--concurrency`` processes) on the
  configured broker and database; each timed run is ``services.launch_rerun_checks`` on
  the launch (in review → checking → in review) until the run is no longer active, polled
  every 10 ms. One untimed warm-up run first (it also waits for the worker to start).
- ``inline``: the same run, its checks executed by ``runner.run_inline`` in this process.

Whatever ``registry.all_checks()`` holds is measured; the report shows the checks and how
many landing pages the server answered. A small run: ``manage.py shell -c "from
koastops.devtools.bench_launch_checklist import main; main(ads=5, runs=2)"``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import os
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from koastops.devtools.tls import throwaway_tls

CHECKLIST_ADS = 50
CHECKLIST_TARGET_SECONDS = 2.0
CHECKLIST_BRAND_SLUG = "launchbench"
CHECKLIST_USER_EMAIL = "launch-bench@koastops.bench"
WORKER_CONCURRENCY = 4
RUN_TIMEOUT_SECONDS = 60.0
SECTION_HEADING = "## Launch checklist"


@dataclass
class ChecklistResult:
    label: str
    seconds: float | None  # median; None when not measured (``note`` says why)
    runs: int
    ads: int
    checks: int
    statuses: dict[str, int] = field(default_factory=dict)
    landing_requests: int = 0
    note: str = ""
    failed: bool = False

    @property
    def met(self) -> bool | None:
        if self.seconds is None:
            return None
        return self.seconds < CHECKLIST_TARGET_SECONDS


# --- the landing pages ----------------------------------------------------------------------


class LandingServer:
    """Every path answers 200 with an HTML page containing the pixel id."""

    def __init__(self, pixel_id: str) -> None:
        self.requests = 0
        body = (
            "<!doctype html><html><head><title>Bench landing</title>"
            f"<script>fbq('init', '{pixel_id}');fbq('track', 'PageView');</script>"
            "</head><body><h1>Bench landing page</h1></body></html>"
        ).encode()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_HEAD(self) -> None:
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # https, as the landing check requires: a throwaway CA the fetcher trusts (this
        # process: SSL_CERT_FILE while measuring; the worker: in its environment).
        self.tls_dir = tempfile.TemporaryDirectory(prefix="koastops-bench-tls-")
        self.ca_file, cert, key = throwaway_tls(Path(self.tls_dir.name), ips=["127.0.0.1"])
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, n: int) -> str:
        return f"https://{self.host}/landing/{n:03d}?ad={n}"

    def __enter__(self) -> LandingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.tls_dir.cleanup()


# --- the dataset ----------------------------------------------------------------------------


def _event(brand: Any) -> Any:
    from koastops.taxonomy.content import parse_event
    from koastops.taxonomy.models import EventDefinition, EventMapping, EventRevision

    found = EventDefinition.objects.filter(brand=brand, name="Purchase").first()
    if found is not None:
        return found
    content = parse_event({"name": "Purchase", "status": "active", "sources": "browser"})
    event = EventDefinition.objects.create(
        brand=brand,
        name=content.name,
        display_name=content.display_name,
        owner=content.owner,
        status=content.status,
        sources=content.sources,
        content=content.to_dict(),
    )
    EventMapping.objects.bulk_create(
        EventMapping(
            event=event, brand=brand, platform=m.platform, target=m.target, custom=m.custom
        )
        for m in content.mappings
    )
    EventRevision.objects.create(event=event, version=event.version, content=event.content)
    return event


@transaction.atomic
def seed_checklist_launch(*, ads: int, landing: LandingServer) -> tuple[Any, Any]:
    """The bench launch with ``ads`` ads on the landing server (rewritten each time: the
    server's port changes), in review; and the bench user."""
    from koastops.accounts import policies
    from koastops.accounts.models import Role, User
    from koastops.catalog.models import AdAccount, Brand, Market, Pixel, Platform
    from koastops.launches import content, selectors
    from koastops.launches.models import Ad, AdSet, CheckRun, Launch

    brand, _ = Brand.objects.get_or_create(
        slug=CHECKLIST_BRAND_SLUG,
        defaults={"name": "Launch checklist bench", "description": "manage.py bench"},
    )
    de, _ = Market.objects.get_or_create(  # reference data; a test flush may have emptied it
        code="DE", defaults={"name": "Germany", "privacy_regime": "gdpr"}
    )
    brand.markets.add(de)
    user = User.objects.filter(email=CHECKLIST_USER_EMAIL).first()
    if user is None:
        user = User.objects.create_user(email=CHECKLIST_USER_EMAIL, password=None)
    policies.grant_role(user, brand, Role.OPS_LEAD)
    account, _ = AdAccount.objects.get_or_create(
        brand=brand,
        platform=Platform.META,
        external_id="act_777000001",
        defaults={"name": "Launch bench account", "currency": "EUR", "time_zone": "UTC"},
    )
    pixel, _ = Pixel.objects.get_or_create(
        brand=brand,
        platform=Platform.META,
        external_id="777000000000001",
        defaults={"name": "Launch bench pixel"},
    )
    pixel.ad_accounts.add(account)
    event = _event(brand)
    now = timezone.now()
    launch = Launch.objects.filter(brand=brand).order_by("pk").first()
    if launch is None:
        launch = Launch.objects.create(
            brand=brand,
            ad_account=account,
            pixel=pixel,
            objective="OUTCOME_SALES",
            optimization_event=event,
            budget_type="daily",
            budget_amount=Decimal("250.00"),
            start_at=now + dt.timedelta(days=30),
            end_at=now + dt.timedelta(days=60),
            campaign_name="Launch bench campaign",
            state_changed_at=now,
            created_by=user,
        )
        launch.markets.add(de)
    CheckRun.objects.filter(launch=launch, state__in=["queued", "running"]).update(
        state="cancelled", finished_at=now
    )
    AdSet.objects.filter(launch=launch).delete()
    ad_set = AdSet.objects.create(launch=launch, position=0, name="Ad set DE", market=de)
    Ad.objects.bulk_create(
        Ad(
            ad_set=ad_set,
            launch=launch,
            position=n,
            name=f"Ad {n + 1:03d}",
            landing_url=landing.url(n),
            utm_source="facebook",
            utm_medium="paid_social",
            utm_campaign=launch.campaign_name,
            utm_content=f"ad_{n + 1:03d}",
        )
        for n in range(ads)
    )
    fresh = selectors.with_structure(Launch.objects.filter(pk=launch.pk)).get()
    Launch.objects.filter(pk=launch.pk).update(
        content_hash=content.content_hash(content.snapshot(fresh)),
        state="in_review",  # re-run from review: returns to review, notifies nobody
        start_at=now + dt.timedelta(days=30),
        end_at=now + dt.timedelta(days=60),
        submitted_by=user,
        created_by=user,
        review_requested=False,
        version=fresh.version + 1,
    )
    return Launch.objects.get(pk=launch.pk), user


# --- timing ---------------------------------------------------------------------------------


def _rerun(launch_id: int, user: Any) -> int:
    from koastops.launches import services
    from koastops.launches.models import Launch

    launch = Launch.objects.get(pk=launch_id)
    return services.launch_rerun_checks(
        user=user, launch=launch, expected_version=launch.version
    ).pk


def _wait_for_the_end(run_id: int, timeout: float) -> str:
    from koastops.launches.models import CheckRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = CheckRun.objects.filter(pk=run_id).values_list("state", flat=True).first()
        if state not in ("queued", "running"):
            return str(state)
        time.sleep(0.01)
    return "timeout"


def _statuses(run_id: int) -> dict[str, int]:
    from django.db.models import Count

    from koastops.launches.models import CheckResult

    rows = CheckResult.objects.filter(run_id=run_id).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows.order_by("status")}


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def celery_worker(
    *, allowed_host: str, concurrency: int, ca_file: str = ""
) -> Iterator[subprocess.Popen[str]]:
    """A ``celery worker`` subprocess on this database and the configured broker."""
    env = {
        **os.environ,
        **({"SSL_CERT_FILE": ca_file} if ca_file else {}),
        "DATABASE_URL": _database_url(),
        "SAFE_FETCH_ALLOWED_HOSTS": allowed_host,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    worker = subprocess.Popen(  # noqa: S603 -- our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "koastops",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "-Q",
            "default",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        process_group=0,
    )
    try:
        yield worker
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.communicate()


@contextlib.contextmanager
def _trusting(ca_file: str) -> Iterator[None]:
    """This process's TLS clients trust ``ca_file`` (OpenSSL reads SSL_CERT_FILE)."""
    before = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = ca_file
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = before


def measure_checklist(
    *, ads: int = CHECKLIST_ADS, runs: int = 10, concurrency: int = WORKER_CONCURRENCY
) -> list[ChecklistResult]:
    """[worker, inline]: median seconds from the re-run to the run's end."""
    from koastops.launches import runner
    from koastops.launches.checks import registry

    checks = len(registry.all_checks())
    if ads <= 0:  # the command's own tests (their data is not committed for a worker)
        return [ChecklistResult("worker", None, 0, 0, checks, note="not measured (no ads)")]
    results: list[ChecklistResult] = []
    with LandingServer("777000000000001") as landing:
        launch, user = seed_checklist_launch(ads=ads, landing=landing)
        label = f"{ads} ads, {checks} checks"

        # Inline first: no worker yet (its queued run_checks message is skipped later:
        # the run is over by then).
        landing.requests = 0
        times, statuses = [], {}
        with (
            override_settings(SAFE_FETCH_ALLOWED_HOSTS=[landing.host]),
            _trusting(landing.ca_file),
        ):
            for _ in range(runs + 1):
                started = time.perf_counter()
                run_id = _rerun(launch.pk, user)
                runner.run_inline(run_id)
                times.append(time.perf_counter() - started)
                statuses = _statuses(run_id)
        inline = ChecklistResult(
            f"inline (run_inline, one process), {label}",
            statistics.median(times[1:]),
            runs,
            ads,
            checks,
            statuses,
            landing.requests // (runs + 1),
        )

        landing.requests = 0
        worker_times: list[float] = []
        note, failed, statuses = "", False, {}
        with celery_worker(
            allowed_host=landing.host, concurrency=concurrency, ca_file=landing.ca_file
        ) as worker:
            for i in range(runs + 1):
                started = time.perf_counter()
                run_id = _rerun(launch.pk, user)
                end = _wait_for_the_end(run_id, RUN_TIMEOUT_SECONDS if i else 120.0)
                elapsed = time.perf_counter() - started
                if end != "done":
                    failed = True
                    note = f"run {i} ended {end!r}"
                    if worker.poll() is not None:
                        note += f"; the worker exited {worker.returncode}"
                    break
                statuses = _statuses(run_id)
                if i:  # the first is the warm-up (and the worker's start)
                    worker_times.append(elapsed)
        results.append(
            ChecklistResult(
                f"worker (celery prefork x{concurrency}), {label}",
                statistics.median(worker_times) if worker_times else None,
                len(worker_times),
                ads,
                checks,
                statuses,
                landing.requests // (runs + 1) if not failed else landing.requests,
                note=note,
                failed=failed,
            )
        )
        results.append(inline)
    return results


def checklist_problems(results: list[ChecklistResult]) -> list[ChecklistResult]:
    return [r for r in results if r.failed]


def checklist_markdown(results: list[ChecklistResult]) -> list[str]:
    broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
    ads = max((r.ads for r in results), default=CHECKLIST_ADS)
    lines = [
        SECTION_HEADING,
        "",
        f"A launch with {ads} ads ({ads} distinct landing URLs on a local HTTPS server with a",
        "throwaway CA, allow-listed through `SAFE_FETCH_ALLOWED_HOSTS`; no network), its checks re-run",
        "(`services.launch_rerun_checks`) and timed until the run ends: through a real",
        f"Celery worker (one task per check, {broker} broker), and inline in one process",
        "(`runner.run_inline`, the same checks one after the other). Median of the runs",
        f"after one warm-up. Target: the run through the worker ends within "
        f"{CHECKLIST_TARGET_SECONDS:g} s.",
        "A run is two broker hops (`run_checks`, then the `run_check` tasks): on the",
        "filesystem broker (the development default) each hop waits for its folder poll",
        "(every 0.1 s); Redis, as in production, delivers at once. *Landing requests / run*",
        "is what the local server answered (each distinct URL once per run). The other",
        "checks fail or pass on the bench launch's data (no stats, no consent); each runs",
        "in full either way.",
        "",
        "| measure | median s | runs | results | landing requests / run | target | met | note |",
        "|---|---:|---:|---|---:|---:|---|---|",
    ]
    for r in results:
        shown = "—" if r.seconds is None else f"{r.seconds:.3f}"
        met = "—" if r.met is None else ("yes" if r.met else "**no**")
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(r.statuses.items())) or "—"
        note = f"**{r.note}**" if r.failed else r.note
        lines.append(
            f"| {r.label} | {shown} | {r.runs} | {statuses} | {r.landing_requests:,} | "
            f"< {CHECKLIST_TARGET_SECONDS:g} s | {met} | {note} |"
        )
    worker = next((r for r in results if r.label.startswith("worker")), None)
    inline = next((r for r in results if r.label.startswith("inline")), None)
    if worker and inline and worker.seconds and inline.seconds:
        lines += [
            "",
            f"Ratio worker / inline: {worker.seconds / inline.seconds:.2f}x (the broker's "
            "round trips and the fan-out, against the checks' parallelism on the workers).",
        ]
    return lines


def with_checklist_section(markdown: str, section: list[str]) -> str:
    """``markdown`` with the checklist section placed before its ``## Dataset`` heading."""
    block = "\n".join(section) + "\n\n"
    marker = "\n## Dataset\n"
    index = markdown.find(marker)
    if index < 0:
        return markdown.rstrip("\n") + "\n\n" + block
    return markdown[: index + 1] + block + markdown[index + 1 :]


def main(**options: Any) -> None:
    """A small run printed to stdout (see the module docstring)."""
    print("\n".join(checklist_markdown(measure_checklist(**options))))
