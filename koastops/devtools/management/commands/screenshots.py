"""`manage.py screenshots`: a tour of the main pages per demo persona, as PNG files.

Runs against the current database, which must hold the demo data (``make screenshots``
builds a throwaway SQLite database: migrate, ``seed_demo``, ``collectstatic``, then this).
The app is served in this process on 127.0.0.1 (see ``koastops.devtools.serve``); the system
Chromium, driven by Playwright, signs in as each persona with a fresh session cookie and
captures the viewport (1280x800, a few at 390x844) to ``<out>/<persona>-<page>.png``.
Offline: nothing is fetched from anywhere but the local server.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from koastops.accounts.models import User
from koastops.catalog.models import Brand, Pixel
from koastops.devtools.management.commands.seed_demo import ADMIN_EMAIL
from koastops.devtools.serve import CHROMIUM_ARGS, CHROMIUM_PATH, running_server, session_cookie

DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
BRAND = "nordwind-outdoor"  # the demo brand every persona works on

PERSONAS = {
    "admin": ADMIN_EMAIL,
    "ops-lead": "ops.nordwind@koastops.demo",
    "media-buyer": "buyer.nordwind@koastops.demo",  # narrowed to one ad account
    "legal": "legal.nordwind@koastops.demo",
    "analyst": "analyst.nordwind@koastops.demo",
}


@dataclass(frozen=True)
class Shot:
    persona: str
    page: str  # a key of ``page_urls()``
    viewport: str = "desktop"

    @property
    def filename(self) -> str:
        suffix = "-mobile" if self.viewport == "mobile" else ""
        return f"{self.persona}-{self.page}{suffix}.png"


# Each main page once, as the persona who works on it; the admin sees the whole tour.
SHOTS: tuple[Shot, ...] = (
    Shot("admin", "start"),
    Shot("admin", "brand-overview"),
    Shot("admin", "ad-accounts"),
    Shot("admin", "pixels"),
    Shot("admin", "pixel-detail"),
    Shot("admin", "members"),
    Shot("admin", "activity"),
    Shot("admin", "profile"),
    Shot("ops-lead", "start"),
    Shot("ops-lead", "members"),
    Shot("media-buyer", "ad-accounts"),
    Shot("legal", "activity"),
    Shot("analyst", "brand-overview"),
    Shot("ops-lead", "brand-overview", "mobile"),
    Shot("media-buyer", "pixels", "mobile"),
)

SETTLE_JS = """async () => {
    await document.fonts.ready;
    for (let i = 0; i < 40 && document.querySelector('.htmx-request'); i++) {
        await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
}"""


def page_urls() -> dict[str, str]:
    brand = Brand.objects.filter(slug=BRAND).first()
    if brand is None:
        raise CommandError(f"No brand {BRAND!r}: run `manage.py seed_demo` first.")
    pixel = Pixel.objects.filter(brand=brand).order_by("name").first()
    if pixel is None:
        raise CommandError(f"The demo brand {BRAND!r} has no pixel: re-run seed_demo.")
    slug = {"slug": brand.slug}
    return {
        "start": reverse("home"),
        "brand-overview": reverse("catalog:brand_detail", kwargs=slug),
        "ad-accounts": reverse("catalog:ad_account_list", kwargs=slug),
        "pixels": reverse("catalog:pixel_list", kwargs=slug),
        "pixel-detail": reverse("catalog:pixel_detail", kwargs={**slug, "pk": pixel.pk}),
        "members": reverse("members:list", kwargs=slug),
        "activity": reverse("activity:list", kwargs=slug),
        "profile": reverse("profile:detail"),
    }


def take_screenshots(
    browser: Any, *, out: Path, only: Collection[str] = (), log: Any = print
) -> list[Path]:
    """Serve the app and capture ``SHOTS`` (or those named in ``only``) with ``browser``
    (a Playwright Chromium); returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    shots = [shot for shot in SHOTS if not only or shot.filename[:-4] in only]
    urls = page_urls()
    cookies = {}
    for persona in sorted({shot.persona for shot in shots}):
        user = User.objects.filter(email=PERSONAS[persona], is_active=True).first()
        if user is None:
            raise CommandError(f"No active demo user {PERSONAS[persona]}: run seed_demo.")
        cookies[persona] = session_cookie(user)
    written = []
    with running_server() as base_url:
        for persona in PERSONAS:
            mine = [shot for shot in shots if shot.persona == persona]
            if mine:
                written += _capture(browser, base_url, cookies[persona], mine, urls, out, log)
    if not only:  # the whole tour: pictures of pages no longer in it are stale
        for stale in sorted(set(out.glob("*.png")) - set(written)):
            stale.unlink()
            log(f"  removed {stale.name} (not in the tour any more)")
    return written


def _capture(browser, base_url, cookie, shots, urls, out: Path, log) -> list[Path]:
    context = browser.new_context(
        base_url=base_url,
        viewport=DESKTOP,
        reduced_motion="reduce",
        locale="en-GB",
        timezone_id="UTC",
    )
    name, value = cookie
    context.add_cookies([{"name": name, "value": value, "url": base_url}])
    written = []
    try:
        page = context.new_page()
        for shot in shots:
            page.set_viewport_size(MOBILE if shot.viewport == "mobile" else DESKTOP)
            response = page.goto(urls[shot.page])
            if response is None or response.status != 200:
                status = response.status if response else "no response"
                raise CommandError(f"{shot.filename}: {urls[shot.page]} answered {status}")
            page.evaluate(SETTLE_JS)
            path = out / shot.filename
            page.screenshot(path=str(path), animations="disabled", caret="hide")
            written.append(path)
            log(f"  {shot.filename}  {urls[shot.page]}")
    finally:
        context.close()
    return written


class Command(BaseCommand):
    help = "Capture the main pages per demo persona as PNG files (needs the demo data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            default=str(Path(settings.BASE_DIR) / "docs" / "screenshots"),
            help="Directory for the PNG files (docs/screenshots).",
        )
        parser.add_argument(
            "--only", default="", help="Comma-separated file names (without .png) to capture."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not Path(CHROMIUM_PATH).exists():
            raise CommandError(f"{CHROMIUM_PATH} is missing; install the chromium package.")
        out = Path(options["out"])
        only = {name for name in options["only"].split(",") if name}
        # Playwright's sync API runs an event loop in this thread; the database is only
        # touched by the server's threads while it runs.
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        from playwright.sync_api import sync_playwright

        started = time.monotonic()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS
            )
            try:
                written = take_screenshots(browser, out=out, only=only, log=self.stdout.write)
            finally:
                browser.close()
        self.stdout.write(
            f"{len(written)} screenshots in {out} ({time.monotonic() - started:.1f} s)."
        )
