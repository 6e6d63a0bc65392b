"""The launches of the demo data (``seed_demo``), one in every state a person can find a
launch in, each walked there through the launch services as the demo users would —
created by the brand's media buyer, checked in process (``runner.run_inline``: no
worker needed), reviewed by the brand's ops lead (never the submitter) — so their
activity, content hashes, versions, check runs and reviews are real:

- Nordwind Outdoor (its media buyer is narrowed to Nordwind DE): a draft, one checked and
  ready to submit, one needing changes (the ops lead asked for them), one in review, one
  approved, one launched (with a platform campaign id, monitored for 14 days) and one
  cancelled;
- Lumen Skincare: one rejected; one in review for the UK, whose consent config the legal
  reviewer rejected — blocked by ``consent.signed_off`` (no valid sign-off for GB);
- Verde Café: one in review optimising for Lead on the Verde web pixel, whose Lead EMQ is
  ~3.8 in the demo stats — blocked by ``quality.emq``.

No launch is left "checking": that state lasts as long as a run, and a run left queued
would wait for a worker the demo may not have.

Names pass the demo naming rules (``demo_plan``: campaign, ad set, ad and UTM campaign);
the month token is the launch's start month. Landing URLs are on
``https://<brand slug>.example/…``, which the landing-page check answers with a labelled
demo page when ``LAUNCH_DEMO_LANDING_PAGES`` is on (by default in DEBUG).

Idempotent: a demo launch is found by its brand and its campaign name around the month
(``DemoLaunch.head`` / ``tail``); only missing ones are created and walked. A re-run
creates nothing and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from koastops.accounts.models import User
from koastops.catalog.models import AdAccount, Brand, Pixel
from koastops.launches import runner, services
from koastops.launches.models import CheckResult, Launch, LaunchState
from koastops.taxonomy.models import EventDefinition

S = LaunchState
MONTH = "{yyyymm}"
OVERRIDE_REASON = (
    "Demo data: approved with this check overridden, so the demo shows an approved launch."
)


@dataclass(frozen=True)
class DemoLaunch:
    brand: str  # the demo brand's short name
    state: str  # where the walk ends
    campaign: str  # the campaign name, with {yyyymm} for the start month
    free: str  # the free token of the ad set and ad names
    account: str  # the ad account's external id
    pixel: str  # the pixel's external id
    event: str  # the optimization event's name
    market: str
    objective: str = "OUTCOME_SALES"
    utm_objective: str = "conv"
    budget: str = "250.00"
    starts_in_days: int = 14
    comment: str = ""  # the ops lead's (request changes, reject, approve) or the cancel reason
    platform_campaign_id: str = ""
    blocked_by: str = ""  # the check key that blocks it once that check is registered

    @property
    def head(self) -> str:
        return self.campaign.split(MONTH, 1)[0]

    @property
    def tail(self) -> str:
        return self.campaign.split(MONTH, 1)[1] if MONTH in self.campaign else ""


_NW, _NW_PIXEL = "act_4100000001", "410000000000101"

DEMO_LAUNCHES: tuple[DemoLaunch, ...] = (
    DemoLaunch(
        "nordwind",
        S.DRAFT,
        "nordwind_de_conv_{yyyymm}_rain-jackets",
        "rain-jackets",
        _NW,
        _NW_PIXEL,
        "Purchase",
        "DE",
        starts_in_days=30,
    ),
    DemoLaunch(
        "nordwind",
        S.READY,
        "nordwind_de_conv_{yyyymm}_trail-shoes",
        "trail-shoes",
        _NW,
        _NW_PIXEL,
        "Purchase",
        "DE",
        budget="180.00",
    ),
    DemoLaunch(
        "nordwind",
        S.NEEDS_CHANGES,
        "nordwind_de_conv_{yyyymm}_tents",
        "tents",
        _NW,
        _NW_PIXEL,
        "Purchase",
        "DE",
        budget="900.00",
        comment="Split the tents by season: one ad set for summer tents, one for 4-season, "
        "and halve the daily budget until we see the first week's ROAS.",
    ),
    DemoLaunch(
        "nordwind",
        S.IN_REVIEW,
        "nordwind_de_conv_{yyyymm}_backpacks",
        "backpacks",
        _NW,
        _NW_PIXEL,
        "Purchase",
        "DE",
        budget="320.00",
    ),
    DemoLaunch(
        "nordwind",
        S.APPROVED,
        "nordwind_de_conv_{yyyymm}_fleece",
        "fleece",
        _NW,
        _NW_PIXEL,
        "Purchase",
        "DE",
        comment="Good to go; watch the CPA in the first three days.",
    ),
    DemoLaunch(
        "nordwind",
        S.LAUNCHED,
        "nordwind_de_conv_{yyyymm}_winter-boots",
        "winter-boots",
        _NW,
        _NW_PIXEL,
        "Purchase",
        "DE",
        budget="400.00",
        starts_in_days=2,
        comment="Approved: same setup as last winter.",
        platform_campaign_id="120210000000000001",
    ),
    DemoLaunch(
        "nordwind",
        S.CANCELLED,
        "nordwind_de_traffic_{yyyymm}_blog-push",
        "blog-push",
        _NW,
        _NW_PIXEL,
        "ViewContent",
        "DE",
        objective="OUTCOME_TRAFFIC",
        utm_objective="traffic",
        budget="60.00",
        comment="The blog relaunch moved to next quarter.",
    ),
    DemoLaunch(
        "lumen",
        S.REJECTED,
        "lumen_fr_conv_spf_{yyyymm}",
        "spf-summer",
        "act_4200000001",
        "420000000000101",
        "Purchase",
        "FR",
        budget="5000.00",
        comment="Sun care is off-season in France until April, and this budget is ten times "
        "the line's usual: not launching this one.",
    ),
    DemoLaunch(
        "lumen",
        S.IN_REVIEW,
        "lumen_gb_conv_serum_{yyyymm}",
        "serum-uk",
        "act_4200000002",
        "420000000000101",
        "Purchase",
        "GB",
        blocked_by="consent.signed_off",
    ),
    DemoLaunch(
        "verde",
        S.IN_REVIEW,
        "verde_us_lead_{yyyymm}_newsletter",
        "newsletter",
        "act_4300000002",
        "430000000000101",
        "Lead",
        "US",
        objective="OUTCOME_LEADS",
        utm_objective="lead",
        budget="120.00",
        blocked_by="quality.emq",
    ),
)


def find(brand: Brand, spec: DemoLaunch) -> Launch | None:
    """The demo launch of ``spec`` on ``brand``, if seeded."""
    found = Launch.objects.filter(brand=brand, campaign_name__startswith=spec.head)
    if spec.tail:
        found = found.filter(campaign_name__endswith=spec.tail)
    return found.order_by("pk").first()


def _data(brand: Brand, spec: DemoLaunch, *, now: dt.datetime) -> dict[str, Any]:
    account = AdAccount.objects.get(brand=brand, external_id=spec.account)
    pixel = Pixel.objects.get(brand=brand, external_id=spec.pixel)
    event = EventDefinition.objects.get(brand=brand, name=spec.event)
    start = (now + dt.timedelta(days=spec.starts_in_days)).replace(
        hour=8, minute=0, second=0, microsecond=0
    )
    month = start.strftime("%Y%m")
    market = spec.market.lower()
    utm_campaign = f"{spec.brand}-{market}-{spec.utm_objective}-{month}"
    landing = f"https://{brand.slug}.example/{spec.free}"

    def ad(position: int, kind: str) -> dict[str, str]:
        name = f"{kind}_{position:02d}_{spec.free}"
        return {
            "name": name,
            "landing_url": f"{landing}?variant={position}",
            "utm_source": "facebook",
            "utm_medium": "paid_social",
            "utm_campaign": utm_campaign,
            "utm_content": name,
            "utm_term": "",
        }

    return {
        "ad_account": account.pk,
        "pixel": pixel.pk,
        "objective": spec.objective,
        "optimization_event": event.pk,
        "markets": [spec.market],
        "budget_type": "daily",
        "budget_amount": spec.budget,
        "start_at": start.isoformat(),
        "end_at": (start + dt.timedelta(days=30)).isoformat(),
        "campaign_name": spec.campaign.replace(MONTH, month),
        "ad_sets": [
            {
                "name": f"{market}_prospecting_auto_{spec.free}",
                "market": spec.market,
                "audience_note": "Broad prospecting, 25-54, Advantage+ audience.",
                "ads": [ad(1, "img"), ad(2, "vid")],
            },
            {
                "name": f"{market}_retargeting_feed_{spec.free}",
                "market": spec.market,
                "audience_note": "Site visitors of the last 30 days, buyers excluded.",
                "ads": [ad(3, "car")],
            },
        ],
    }


def _fresh(launch: Launch) -> Launch:
    return Launch.objects.select_related("brand").get(pk=launch.pk)


def _check_and_wait(launch: Launch, run_id: int, expected: set[str]) -> Launch:
    runner.run_inline(run_id)
    launch = _fresh(launch)
    if launch.state not in expected:
        raise CommandError(
            f"Demo launch {launch.campaign_name} ended its checks {launch.state}, not "
            f"{' or '.join(sorted(expected))}."
        )
    return launch


def walk(*, brand: Brand, spec: DemoLaunch, author: User, reviewer: User) -> Launch:
    """Create the demo launch as ``author`` and take it to ``spec.state`` through the
    services (the checks run in process; ``reviewer`` decides)."""
    launch = services.launch_create(
        user=author, brand=brand, data=_data(brand, spec, now=timezone.now())
    )
    if spec.state == S.DRAFT:
        return launch
    if spec.state == S.CANCELLED:
        return services.launch_cancel(
            user=author, launch=launch, expected_version=launch.version, reason=spec.comment
        )
    if spec.state == S.READY:
        # Checked without asking for review. A blocking failure (a check registered later
        # that the demo does not pass) leaves it needing changes: still a real outcome.
        run = services.launch_rerun_checks(
            user=author, launch=launch, expected_version=launch.version
        )
        return _check_and_wait(launch, run.pk, {S.READY, S.NEEDS_CHANGES})
    run = services.launch_submit(user=author, launch=launch, expected_version=launch.version)
    launch = _check_and_wait(launch, run.pk, {S.IN_REVIEW})
    if spec.state == S.IN_REVIEW:
        return launch
    if spec.state == S.NEEDS_CHANGES:
        services.launch_request_changes(
            user=reviewer, launch=launch, expected_version=launch.version, comment=spec.comment
        )
    elif spec.state == S.REJECTED:
        services.launch_reject(
            user=reviewer, launch=launch, expected_version=launch.version, comment=spec.comment
        )
    elif spec.state in (S.APPROVED, S.LAUNCHED):
        blocking = [
            result.key
            for result in CheckResult.objects.filter(run_id=launch.current_run_id)
            if result.blocks
        ]
        services.launch_approve(
            user=reviewer,
            launch=launch,
            expected_version=launch.version,
            comment=spec.comment,
            overrides=dict.fromkeys(blocking, OVERRIDE_REASON),
        )
        if spec.state == S.LAUNCHED:
            launch = _fresh(launch)
            services.launch_mark_launched(
                user=author,
                launch=launch,
                expected_version=launch.version,
                platform_campaign_id=spec.platform_campaign_id,
            )
    return _fresh(launch)


def seed_launches(*, brands: Mapping[str, Brand]) -> tuple[int, int]:
    """Every missing demo launch of ``brands`` (by demo short name); (created, existing).
    The brand's media buyer drafts, its ops lead reviews."""
    created = existing = 0
    for spec in DEMO_LAUNCHES:
        brand = brands.get(spec.brand)
        if brand is None:
            continue
        if find(brand, spec) is not None:
            existing += 1
            continue
        author = User.objects.get(email=f"buyer.{spec.brand}@koastops.demo")
        reviewer = User.objects.get(email=f"ops.{spec.brand}@koastops.demo")
        walk(brand=brand, spec=spec, author=author, reviewer=reviewer)
        created += 1
    return created, existing
