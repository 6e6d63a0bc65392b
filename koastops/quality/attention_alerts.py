"""The alerts' "needs attention" item (see ``koastops.dashboard.attention``):
``quality.open_alerts`` — the open alerts of each brand the user may see, failing when a
pixel is silent or its connection broken, a warning otherwise; the link is the alerts page
filtered to open ones. Counted as the alerts page shows them: a narrowed media buyer counts
only alerts on their pixels or on no pixel.

The dashboard discovers ``<app>/attention.py`` modules by name; the pages part owns
``koastops/quality/attention.py``, which imports this module (one line) so the provider
registers. ONE grouped query for any number of brands.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.db.models import Count, Q

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog.models import Brand, Pixel
from koastops.dashboard import attention
from koastops.quality.models import Alert, AlertKind, AlertStatus

FAILING_KINDS = (AlertKind.SILENT, AlertKind.CONNECTION_BROKEN)


def open_alert_counts(
    user: Any, brand_ids: Sequence[int], roles: Mapping[int, Role] | None = None
) -> dict[int, tuple[int, int]]:
    """``{brand id: (open alerts, of which failing)}`` the user may see (one query; one
    more to ask whether a media buyer is narrowed — only a media buyer can be). Pass the
    user's ``roles`` by brand id when known."""
    alerts = Alert.objects.filter(brand_id__in=list(brand_ids), status=AlertStatus.OPEN)
    maybe_narrowed = roles is None or Role.MEDIA_BUYER in roles.values()
    if maybe_narrowed and not policies.is_admin(user) and policies.is_narrowed_anywhere(user):
        visible = Pixel.objects.filter(policies.pixel_visible_q(user)).values("pk")
        alerts = alerts.filter(Q(pixel__isnull=True) | Q(pixel__in=visible))
    rows = (
        alerts.values("brand_id")
        .annotate(n=Count("pk"), failing=Count("pk", filter=Q(kind__in=FAILING_KINDS)))
        .order_by()
        .values_list("brand_id", "n", "failing")
    )
    return {brand_id: (n, failing) for brand_id, n, failing in rows}


@attention.register("quality.open_alerts")
def open_alerts(
    *, user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]
) -> Iterator[attention.AttentionItem]:
    if not brands:
        return
    counts = open_alert_counts(user, [brand.pk for brand in brands], roles)
    alerts_url = attention.slug_url("quality:alerts")
    for brand in brands:
        n, failing = counts.get(brand.pk, (0, 0))
        if not n:
            continue
        yield attention.AttentionItem(
            brand=brand,
            tone="failing" if failing else "warning",
            title=f"{n} open alert{'s' if n != 1 else ''}",
            detail=(
                "Pixels silent or disconnected: no data reaches the platform."
                if failing
                else "Event volume, match quality, deduplication or CRM figures are off."
            ),
            href=alerts_url(brand.slug) + "?status=open",
            count=n,
            key="quality.open_alerts",
            who="Ops leads fix connections and tags; analysts check the figures.",
        )
