"""Every page of the permission matrix, as each principal that may open it, fits its
viewport and passes axe-core.

For each principal (admin, ops lead, media buyer, narrowed media buyer, legal reviewer,
analyst on their own brand, and anonymous for the public pages) one signed-in browser
context loads each HTML page it may open once, at 1280x800, and checks:

(a) no page-level horizontal overflow (``scrollWidth <= innerWidth``);
(b) no visible element cut off by an ancestor that clips it (overflow hidden / clip, or
    the viewport); content of a scroll container the user can scroll (``.table-wrap``,
    overflow auto) and visually-hidden text are not cut off;
(c) axe-core (vendored, tests/browser/vendor/axe-core) with the WCAG 2.x A/AA rules: no
    violation of impact critical or serious.

Then the viewport shrinks to 390x844 and (a) and (b) run again on the same page.

The pages come from ``MATRIX`` of tests/accounts/test_permission_matrix.py and who may open
them from docs/permissions.md (through ``expected``), so a new page is checked as soon as it
has its matrix row. Each test collects the findings of all its pages and fails with one
report naming page, principal, viewport, element and rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog import services as catalog_services
from tests.accounts.test_permission_matrix import (
    MATRIX,
    PUBLIC,
    ROLE_PRINCIPALS,
    World,
    expected,
)
from tests.accounts.test_permission_matrix import (
    world as matrix_world,  # noqa: F401 -- the matrix's fixture, under this name here
)
from tests.browser.conftest import DEFAULT_TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HERE = Path(__file__).resolve().parent
AXE = HERE / "vendor" / "axe-core" / "axe.min.js"
LAYOUT_CHECKS = (HERE / "layout_checks.js").read_text(encoding="utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = {"critical", "serious"}
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}

# GET entries of the matrix that are not HTML pages a person looks at.
NOT_PAGES = {
    "healthz": "plain-text probe",
    "readyz": "plain-text probe",
    "activity:export": "a CSV / JSON download",
    "taxonomy:plan_export": "a JSON download",
    "notifications:badge": "the header's unread-count fragment (htmx)",
    "notifications:open": "a redirect to the notification's link",
    "consent:evidence": "a CSV / JSON download",
    # quality: crm
    "quality:conversions_template": "a CSV download",
    "quality:reconciliation_export": "a CSV download",
    # launches: export
    "launches:export_csv": "a CSV download (a 409 page before approval)",
    "launches:export_json": "a JSON download",
    "launches:run_status": "the launch page's polled checklist fragment (htmx)",
    # launches: drafts
    "launches:structure_row": "the launch form's ad set / ad row fragment (htmx)",
    "launches:name_check": "the launch form's live name-check fragment (htmx)",
}
# The principals of the matrix that open pages, plus a narrowed media buyer; each holds a
# role on the world's own brand (narrowed: media buyer, limited to one ad account).
PRINCIPALS = ["admin", "ops_lead", "media_buyer", "narrowed_buyer", "legal_reviewer", "analyst"]
MATRIX_PRINCIPAL = {"narrowed_buyer": "media_buyer"}


@dataclass(frozen=True)
class Visit:
    label: str  # the matrix name, or what the page is
    url: str
    status: int = 200
    axe: bool = True  # also run axe (see axe_principal)


def _html_pages() -> list[str]:
    return sorted(
        name
        for name, entry in MATRIX.items()
        if entry.method == "GET" and not entry.api and name not in NOT_PAGES
    )


def _may_open(name: str, principal: str) -> bool:
    entry = MATRIX[name]
    if entry.access == PUBLIC:
        return False
    return expected(entry, MATRIX_PRINCIPAL.get(principal, principal), "own") == entry.success


def axe_principal(name: str) -> str:
    """The one principal whose run checks ``name`` with axe: the page's markup is the same
    template for everyone who may open it, so axe (the slow part) runs once per page, the
    pages spread round-robin over the principals who may open them. Layout (overflow,
    cut-off text) is still checked for every principal: their content differs in length."""
    openers = [p for p in PRINCIPALS if p != "narrowed_buyer" and _may_open(name, p)]
    if not openers:
        return ""
    return openers[_html_pages().index(name) % len(openers)]


def visits_for(world: World, principal: str) -> list[Visit]:
    """The pages ``principal`` may open (own brand), from the matrix and the docs."""
    visits = []
    for name in _html_pages():
        entry = MATRIX[name]
        if principal == "anonymous":
            if entry.access != PUBLIC:
                continue
        elif entry.access == PUBLIC:
            continue  # sign-in and password-reset pages: checked signed out
        elif expected(entry, MATRIX_PRINCIPAL.get(principal, principal), "own") != entry.success:
            continue
        url = reverse(name, kwargs=entry.kwargs(world, "own") or None)
        if entry.query:
            url = f"{url}?{entry.query}"
        if principal == "narrowed_buyer" and entry.access in policies.OWN_LAUNCH_ONLY:
            # The matrix's launch is the matrix's media buyer's: another buyer gets the 403
            # page (edit / cancel are own-launch-only), which is checked as a page too.
            visits.append(Visit(name, url, status=403))
            continue
        visits.append(Visit(name, url, axe=axe_principal(name) == principal))
    # The error pages, as a person meets them.
    if principal == "ops_lead":
        foreign = reverse("catalog:brand_detail", kwargs={"slug": world.brands["foreign"].slug})
        visits.append(Visit("404 (a foreign brand)", foreign, 404))
    if principal == "analyst":
        members = reverse("members:list", kwargs={"slug": world.brands["own"].slug})
        visits.append(Visit("403 (members page as analyst)", members, 403))
    return visits


def _enrich(world: World) -> None:
    """Names and activity of realistic length, so the tables have something to overflow."""
    admin, own = world.users["admin"], world.brands["own"]
    long_account = catalog_services.ad_account_create(
        user=admin,
        brand=own,
        platform="meta",
        external_id="act_4100000000000042",
        name="Nordwind Outdoor DE - Always-on prospecting (Advantage+ shopping)",
        currency="EUR",
        time_zone="America/Argentina/Buenos_Aires",
    )
    pixel = catalog_services.pixel_create(
        user=admin,
        brand=own,
        platform="meta",
        external_id="410000000000000101",
        name="Nordwind Outdoor web pixel (shop.nordwind-outdoor.example, checkout)",
        capi_enabled=True,
        ad_accounts=[long_account, world.ad_accounts["own"]],
        access_token="layout-test-token",
    )
    pixel.refresh_from_db()
    catalog_services.pixel_update(
        user=admin,
        pixel=pixel,
        expected_version=pixel.version,
        name="Nordwind Outdoor web pixel (shop.nordwind-outdoor.example, all pages)",
    )


@pytest.fixture
def layout_world(request) -> World:
    world: World = request.getfixturevalue("matrix_world")
    _enrich(world)
    return world


def _narrowed_buyer(world: World) -> Any:
    from tests.factories import UserFactory

    user = UserFactory(email="narrowed.buyer@example.com", full_name="Nora Narrowed")
    own = world.brands["own"]
    policies.grant_role(user, own, Role.MEDIA_BUYER)
    policies.set_ad_account_narrowing(user, own, [world.ad_accounts["own"]])
    return user


def _signed_in_context(chromium_browser, live_server, user: Any | None):
    # bypass_csp: the app's CSP would block the injected axe-core script.
    context = chromium_browser.new_context(
        base_url=live_server.url, viewport=DESKTOP, bypass_csp=True
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return context


def _settle(page) -> None:
    """Wait for fonts, pending htmx requests and two frames of layout."""
    page.evaluate(
        """async () => {
            await document.fonts.ready;
            for (let i = 0; i < 40 && document.querySelector('.htmx-request'); i++) {
                await new Promise((r) => setTimeout(r, 50));
            }
            await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        }"""
    )


def _layout_findings(page, where: str) -> list[str]:
    result = page.evaluate(LAYOUT_CHECKS)
    findings = []
    if result["overflow"]:
        overflow = result["overflow"]
        culprits = "; ".join(
            f"{c['selector']} (right edge {c['right']}px, {c['text']!r})"
            for c in overflow["culprits"]
        )
        findings.append(
            f"{where}: OVERFLOW page is {overflow['scrollWidth']}px wide in a "
            f"{overflow['innerWidth']}px viewport; sticking out: {culprits or 'n/a'}"
        )
    findings.extend(
        f"{where}: CUT-OFF {cut['selector']} ({cut['text']!r}, box {cut['box']}) "
        f"clipped on {cut['axis']} by {cut['clipper']} (clip box {cut['clip']})"
        for cut in result["cutoff"]
    )
    if result["cutoffTotal"] > len(result["cutoff"]):
        findings.append(
            f"{where}: CUT-OFF ... and {result['cutoffTotal'] - len(result['cutoff'])} more"
        )
    return findings


def _axe_findings(page, where: str) -> list[str]:
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {
                runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
            });
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map((n) => n.target.join(" ")),
            }));
        }""",
        AXE_TAGS,
    )
    findings = []
    for violation in violations:
        if violation["impact"] not in BLOCKING_IMPACTS:
            continue
        targets = violation["targets"]
        sample = ", ".join(targets[:3]) + (
            f" (+{len(targets) - 3} more)" if len(targets) > 3 else ""
        )
        findings.append(
            f"{where}: AXE {violation['id']} [{violation['impact']}] {violation['help']}; "
            f"{len(targets)} node(s): {sample}"
        )
    return findings


def check_pages(chromium_browser, live_server, user: Any | None, principal: str, visits):
    context = _signed_in_context(chromium_browser, live_server, user)
    findings: list[str] = []
    login = reverse("login")
    try:
        page = context.new_page()
        for visit in visits:
            page.set_viewport_size(DESKTOP)
            where = f"[{principal}] {visit.label} {visit.url}"
            response = page.goto(visit.url)
            status = response.status if response else None
            sent_to_login = visit.label != "login" and login in page.url
            if status != visit.status or sent_to_login:
                findings.append(f"{where}: answered {status} at {page.url}, not {visit.status}")
                continue
            if "text/html" not in (response.headers.get("content-type") or ""):
                findings.append(f"{where}: not an HTML page ({response.headers})")
                continue
            _settle(page)
            findings += _layout_findings(page, f"{where} @1280x800")
            if visit.axe:
                findings += _axe_findings(page, f"{where} @1280x800")
            page.set_viewport_size(MOBILE)
            _settle(page)
            findings += _layout_findings(page, f"{where} @390x844")
    finally:
        context.close()
    return findings


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_pages_fit_the_viewport_and_pass_axe(
    chromium_browser, live_server, layout_world, principal
):
    world = layout_world
    user = _narrowed_buyer(world) if principal == "narrowed_buyer" else world.users[principal]
    visits = visits_for(world, principal)
    assert visits, "no pages for this principal: the matrix or the docs changed shape"
    findings = check_pages(chromium_browser, live_server, user, principal, visits)
    assert not findings, f"{len(findings)} finding(s) on {len(visits)} page(s):\n" + "\n".join(
        findings
    )


def test_public_pages_fit_the_viewport_and_pass_axe(chromium_browser, live_server, layout_world):
    visits = visits_for(layout_world, "anonymous")
    assert {visit.label for visit in visits} >= {"login", "password_reset"}
    findings = check_pages(chromium_browser, live_server, None, "anonymous", visits)
    assert not findings, f"{len(findings)} finding(s) on {len(visits)} page(s):\n" + "\n".join(
        findings
    )


def test_layout_checks_catch_overflow_and_cut_off_elements(chromium_browser, live_server):
    """Guards the guard: a page that overflows, a button cut by its box, a label cut by its
    button and a fixed toast half off-screen are reported; a table in a scroll container,
    an ellipsis, visually-hidden text and an off-screen skip link are not."""
    context = chromium_browser.new_context(viewport=DESKTOP, bypass_csp=True)
    try:
        page = context.new_page()
        page.set_content(
            """<!doctype html><body style="margin:0">
              <div id="clipper" style="width:200px;overflow:hidden;white-space:nowrap">
                <span style="display:inline-block;width:180px">name</span>
                <button id="cut">Archive</button>
              </div>
              <div class="table-wrap" style="width:200px;overflow:auto">
                <table><tr><td style="white-space:nowrap">
                  a very long cell that scrolls inside its own box, not cut off at all
                </td></tr></table>
              </div>
              <span class="visually-hidden" style="position:absolute;width:1px;height:1px;
                overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap">hidden label text</span>
              <button id="narrow" style="width:60px;overflow:hidden;white-space:nowrap">
                Archive this ad account</button>
              <span style="display:block;width:60px;overflow:hidden;white-space:nowrap;
                text-overflow:ellipsis">Truncated on purpose, with an ellipsis</span>
              <div id="toast" style="position:fixed;right:-40px;bottom:10px;width:200px">
                Saved.</div>
              <a id="skip" href="#main" style="position:absolute;left:-9999px">Skip</a>
              <div id="wide" style="width:1500px;height:10px"></div>
            </body>"""
        )
        result = page.evaluate(LAYOUT_CHECKS)
        assert result["overflow"]["scrollWidth"] >= 1500
        assert [c["selector"] for c in result["overflow"]["culprits"]] == ["#wide"]
        assert [(c["selector"], c["clipper"]) for c in result["cutoff"]] == [
            ("#cut", "#clipper"),
            ("#narrow", "its own overflow (text cut)"),
            ("#toast", "viewport"),
        ]
        # A visually-hidden label positioned against the page, not the scroll box it sits
        # in, widens the page although the table scrolls (the old ad-account list).
        page.set_content(
            """<!doctype html><body style="margin:0">
              <div style="width:200px;overflow:auto"><table><tr><td style="white-space:nowrap">
                <a href="#">Edit<span id="label" style="position:absolute;width:1px;
                  height:1px;overflow:hidden;clip:rect(0 0 0 0)">Nordwind DE</span></a>
                a very long cell that scrolls inside its own box, far past the viewport edge
                and then some more text so that it reaches beyond 1280 pixels for certain;
                and then some more text so that it reaches beyond 1280 pixels for certain.
                <a href="#">Archive<span id="far" style="position:absolute;width:1px;
                  height:1px;overflow:hidden;clip:rect(0 0 0 0)">Nordwind DE</span></a>
              </td></tr></table></div>
            </body>"""
        )
        result = page.evaluate(LAYOUT_CHECKS)
        assert result["overflow"] is not None
        culprits = result["overflow"]["culprits"]
        assert [c["selector"] for c in culprits] == ["#far"]
        assert culprits[0]["text"].startswith("visually hidden")
        assert result["cutoff"] == []
        page.add_script_tag(path=str(AXE))
        assert page.evaluate("typeof axe.run") == "function"
    finally:
        context.close()


def test_every_html_page_of_the_matrix_is_visited():
    """Each HTML GET page of the matrix is visited by at least one principal."""
    names = set(_html_pages())
    assert names, "no pages found in the matrix"
    assert set(NOT_PAGES) <= set(MATRIX), "NOT_PAGES names an entry the matrix no longer has"
    public = {name for name in names if MATRIX[name].access == PUBLIC}
    signed_in = names - public
    allowed_somewhere = {
        name
        for name in signed_in
        for principal in PRINCIPALS
        if expected(MATRIX[name], MATRIX_PRINCIPAL.get(principal, principal), "own")
        == MATRIX[name].success
    }
    assert allowed_somewhere == signed_in
    # And each is checked with axe by one of them.
    assert {name for name in signed_in if not axe_principal(name)} == set()
    # A role the matrix gains must be visited here too.
    assert set(ROLE_PRINCIPALS) <= set(PRINCIPALS)
