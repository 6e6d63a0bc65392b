"""The quality bench's seeding at a tiny size (COPY into the partitioned hourly table, the
daily rollup, idempotent) and its pages answering 200 with the same queries whatever the
size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from koastops.accounts.tokens import api_token_create
from koastops.devtools.bench_quality_pages import quality_bench_pages, seed_bench_quality
from koastops.quality.models import DailyStat, HourlyStat, PixelConnection
from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db


def _queries(pages, admin) -> dict[str, int]:
    client = Client()
    client.force_login(admin)
    counts = {}
    for page in pages:
        page.get(client)
        with CaptureQueriesContext(connection) as captured:
            response = page.get(client)
        assert response.status_code == 200, (page.label, response.content[:300])
        counts[page.label] = len(captured)
    return counts


def test_seed_tiny_is_idempotent_and_pages_keep_their_query_count():
    lead = UserFactory()
    counts = seed_bench_quality(lead=lead, pixels=3, hours=4)
    assert counts == {"pixels (quality-bench)": 3, "hourly stat rows (quality-bench)": 72}
    assert PixelConnection.objects.filter(pixel__brand__slug="quality-bench").count() == 3
    assert DailyStat.objects.filter(pixel__brand__slug="quality-bench").exists()
    assert seed_bench_quality(lead=lead, pixels=3, hours=4) == counts  # nothing added
    admin = AdminFactory()
    _, token = api_token_create(user=admin, name="bench")
    small = _queries(quality_bench_pages(api_token=token), admin)
    assert len(small) == 8
    seed_bench_quality(pixels=40, hours=4)
    assert HourlyStat.objects.filter(pixel__brand__slug="quality-bench").count() == 40 * 24
    big = _queries(quality_bench_pages(api_token=token), admin)
    # never more queries with more rows (an empty page may cost one less)
    assert big.keys() == small.keys()
    assert all(big[label] <= small[label] + 1 and big[label] >= small[label] for label in big)
    assert (
        big["quality table (2,000 pixels, 2M stat rows)"]
        == small["quality table (2,000 pixels, 2M stat rows)"]
    )
