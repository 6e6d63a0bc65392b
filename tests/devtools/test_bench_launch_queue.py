"""The approval-queue bench in its tiny mode: the seed is idempotent and spreads the
launches in review over three brands, and every measured page answers with the same
query count when the brand holds more launches."""

from __future__ import annotations

import pytest
from django.test import Client

from koastops.accounts.models import User
from koastops.devtools import bench_launch_queue as queue_bench
from koastops.devtools.management.commands import bench
from koastops.launches.models import Launch

pytestmark = pytest.mark.django_db


def test_tiny_seed_is_idempotent_and_the_queue_pages_answer_in_constant_queries():
    lead = User.objects.create(email="bench-lead@koastops.invalid")
    counts = queue_bench.seed_bench_launches(lead=lead, launches=40, in_review=12)
    assert counts["launches (launch-bench)"] == 40
    assert counts["launches in review (launch-bench brands)"] == 12
    assert queue_bench.seed_bench_launches(lead=lead, launches=40, in_review=12) == counts
    brands = set(Launch.objects.filter(state="in_review").values_list("brand__slug", flat=True))
    assert brands == {"launch-bench", *queue_bench.SISTER_SLUGS}

    pages = queue_bench.launch_queue_pages()
    small = bench.measure(user=lead, pages=pages, runs=1, warmup=1)
    assert not small.problems, small.problems
    queue_bench.seed_bench_launches(lead=lead, launches=400, in_review=12)
    Launch.objects.filter(
        brand__slug="launch-bench",
        pk__in=Launch.objects.filter(brand__slug="launch-bench", state="draft").values("pk")[:30],
    ).update(state="in_review")
    large = bench.measure(user=lead, pages=pages, runs=1, warmup=1)
    assert not large.problems, large.problems
    assert [row.queries for row in large.rows] == [row.queries for row in small.rows]
    body = Client()
    body.force_login(lead)
    assert b"Yours" in body.get("/launches/review/").content  # half were the lead's
