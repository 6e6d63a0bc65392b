"""The launch checklist bench (``koastops.devtools.bench_launch_checklist``) at a tiny size,
through a real worker subprocess (the landing pages on a local server it is allowed)."""

from __future__ import annotations

import pytest
from django.db import connection

from koastops.devtools import bench_launch_checklist as bench
from koastops.launches.models import CheckRun, Launch
from tests.factories import _market


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_checklist_bench_times_a_run_through_a_worker_and_inline():
    if connection.vendor != "postgresql":
        pytest.skip("the worker subprocess needs a database it can share")
    _market("DE")  # reference data: gone after an earlier transactional test's flush
    worker, inline = bench.measure_checklist(ads=3, runs=2, concurrency=2)

    assert not worker.failed, worker.note
    assert bench.checklist_problems([worker, inline]) == []
    for result in (worker, inline):
        assert result.seconds is not None and result.seconds > 0
        assert result.ads == 3 and result.checks >= 1
        assert sum(result.statuses.values()) == result.checks
        assert "pending" not in result.statuses and "running" not in result.statuses
    assert worker.runs == 2
    launch = Launch.objects.get(brand__slug=bench.CHECKLIST_BRAND_SLUG)
    assert launch.ads.count() == 3 and launch.state == "in_review"
    assert CheckRun.objects.filter(launch=launch, state="done").count() == 6
    assert not CheckRun.objects.filter(state__in=["queued", "running"]).exists()

    text = "\n".join(bench.checklist_markdown([worker, inline]))
    assert text.startswith(bench.SECTION_HEADING)
    assert "worker (celery prefork x2), 3 ads" in text and "Ratio worker / inline" in text
    page = bench.with_checklist_section("# B\n\n## Dataset\n\n- x\n", text.splitlines())
    assert page.index(bench.SECTION_HEADING) < page.index("## Dataset")


def test_a_failed_run_is_reported_not_hidden():
    failed = bench.ChecklistResult(
        "worker", None, 0, 50, 1, note="run 0 ended 'timeout'", failed=True
    )
    assert bench.checklist_problems([failed]) == [failed]
    text = "\n".join(bench.checklist_markdown([failed]))
    assert "**run 0 ended 'timeout'**" in text and "| — |" in text


def test_no_ads_is_not_measured():
    [skipped] = bench.measure_checklist(ads=0)
    assert skipped.seconds is None and not skipped.failed and "not measured" in skipped.note
