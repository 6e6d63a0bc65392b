"""Landing pages: each distinct landing URL answers 2xx over https and its HTML contains
the pixel id.

Every URL is fetched once however many ads use it, several at once (a thread pool of at
most ``MAX_PARALLEL``), through ``koastops.core.safefetch`` (https only, public addresses
only on every redirect hop, its timeout and size cap). The threads only fetch: nothing in
them touches the database.

Demo data: with ``settings.LAUNCH_DEMO_LANDING_PAGES`` (on with DEBUG), a URL whose host
ends in ``.example`` (RFC 2606: never resolvable) is answered by a labelled demo page
that contains the pixel id, or a 404 when its path contains ``/broken``; without it such
a URL fails as unresolvable like any other name.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from koastops.core import safefetch
from koastops.launches.checks.registry import CheckContext, Outcome, check
from koastops.launches.models import Severity

logger = logging.getLogger(__name__)

MAX_PARALLEL = 8
FETCH_TIMEOUT = safefetch.DEFAULT_TIMEOUT  # per URL, the whole fetch (redirects included)
MAX_ADS_LISTED = 10
PASS, FAIL, ERROR = "pass", "fail", "error"


def _is_demo_host(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    return host == "example" or host.endswith(".example")


def _demo_page(url: str, pixel_id: str) -> tuple[int, bytes]:
    if "/broken" in urlsplit(url).path:
        return 404, b"<html><body>Demo page: not found.</body></html>"
    body = (
        "<html><head><title>Demo landing page (koastops demo data)</title></head><body>"
        f"<script>fbq('init', '{pixel_id}');</script>Demo landing page.</body></html>"
    )
    return 200, body.encode()


def _verdict(url: str, pixel_id: str, demo: bool) -> dict[str, Any]:
    """One URL's verdict: ``status`` pass / fail / error, a ``message``, ``http_status``."""
    row: dict[str, Any] = {"demo": False, "http_status": None}
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return row | {"status": FAIL, "message": "Not a valid URL: correct it."}
    if scheme == "http":
        return row | {"status": FAIL, "message": "Uses http://: use an https:// URL."}
    try:
        safefetch.validate_url(url, https_only=True)
        if demo and _is_demo_host(url):
            status, body = _demo_page(url, pixel_id)
            row |= {"demo": True, "http_status": status}
            truncated = False
        else:
            result = safefetch.fetch(url, https_only=True, timeout=FETCH_TIMEOUT)
            status, body, truncated = result.status, result.body, result.truncated
            row |= {"http_status": status, "final_url": result.final_url}
    except safefetch.UnsafeURL as exc:
        return row | {"status": FAIL, "message": f"Refused: {exc.message}"}
    except safefetch.FetchError as exc:
        return row | {"status": FAIL, "message": f"Unreachable: {exc.message}"}
    except Exception:  # a bug or an unexpected failure: this URL could not be checked
        logger.exception("landing page fetch of %s failed", url)
        return row | {
            "status": ERROR,
            "message": "Could not be checked (an unexpected error): re-run the checks.",
        }
    label = "The demo page" if row["demo"] else "The page"
    if not 200 <= status < 300:
        return row | {
            "status": FAIL,
            "message": f"{label} answered HTTP {status}: fix the URL or the page.",
        }
    if pixel_id.encode() not in body:
        where = " in its first 2 MB" if truncated else ""
        return row | {
            "status": FAIL,
            "message": f"{label} does not contain the pixel id {pixel_id}{where}: install "
            "the pixel on the page.",
        }
    return row | {"status": PASS, "message": f"{label} answered {status} with the pixel."}


@check(
    "landing.reachable",
    "Every landing page answers over https with the pixel",
    severity=Severity.BLOCKING,
    description=(
        "Each distinct landing URL of the ads is fetched once (https only, public addresses "
        "only, 5 s, 2 MB): it must answer 2xx and its HTML must contain the pixel id. Fix: "
        "use https:// URLs, fix broken pages, install the pixel on the pages listed."
    ),
)
def landing_reachable(ctx: CheckContext) -> Outcome:
    launch = ctx.launch
    pixel_id = launch.pixel.external_id
    ads_by_url: dict[str, list[dict[str, str]]] = {}
    for i, ad_set in enumerate(launch.ad_sets.all()):
        for j, ad in enumerate(ad_set.ads.all()):
            ads_by_url.setdefault(ad.landing_url, []).append(
                {"path": f"ad_sets.{i}.ads.{j}.landing_url", "name": ad.name}
            )
    if not ads_by_url:
        return Outcome.passed("There are no ads, so no landing pages to check.", urls=[])
    demo = bool(getattr(settings, "LAUNCH_DEMO_LANDING_PAGES", False))
    urls = list(ads_by_url)
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(urls))) as pool:
        verdicts = list(pool.map(lambda url: _verdict(url, pixel_id, demo), urls))
    rows = []
    for url, verdict in zip(urls, verdicts, strict=True):
        ads = ads_by_url[url]
        rows.append({"url": url, **verdict, "ads": ads[:MAX_ADS_LISTED], "ad_count": len(ads)})
    failed = [row for row in rows if row["status"] == FAIL]
    errored = [row for row in rows if row["status"] == ERROR]
    details = {"pixel_id": pixel_id, "urls": rows, "demo_pages": demo}
    if failed:
        first = failed[0]
        if len(failed) == 1:
            message = f"The landing page {first['url']} fails: {first['message']}"
        else:
            message = (
                f"{len(failed)} of {len(rows)} landing pages fail, first {first['url']}: "
                f"{first['message']} (each is listed with what is wrong)"
            )
        return Outcome.fail(message, **details)
    if errored:
        return Outcome.error(
            f"{len(errored)} landing page{'s' if len(errored) > 1 else ''} could not be "
            f"checked (first {errored[0]['url']}): re-run the checks; if it happens again, "
            "tell an admin.",
            **details,
        )
    noun = "landing page answers" if len(rows) == 1 else f"{len(rows)} landing pages answer"
    suffix = " (demo pages)" if all(row["demo"] for row in rows) else ""
    return Outcome.passed(
        f"{'The' if len(rows) == 1 else 'All'} {noun} over https with the pixel "
        f"{pixel_id}{suffix}.",
        **details,
    )
