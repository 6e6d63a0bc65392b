from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

from koastops.catalog.models import AdAccount, Brand, Pixel
from koastops.devtools.management.commands import bench


@pytest.fixture
def tiny_dataset(db) -> dict:
    return bench.seed_bench_data(brands=3, ad_accounts=2, pixels=2)


def test_seed_is_idempotent(tiny_dataset):
    again = bench.seed_bench_data(brands=3, ad_accounts=2, pixels=2)

    assert again == tiny_dataset == {"brands": 3, "ad accounts": 6, "pixels": 6}
    assert Brand.objects.filter(slug="bench-000").exists()
    assert AdAccount.objects.filter(brand__slug="bench-002").count() == 2
    assert Pixel.objects.get(external_id="90000000000").ad_accounts.count() == 2


def test_measure_reports_every_page_against_the_floor(tiny_dataset):
    pages = bench.bench_pages("bench-000")

    report = bench.measure(user=bench.bench_admin(), pages=pages, runs=2, warmup=1)

    assert [row.label for row in report.rows] == [page.label for page in pages]
    assert report.floor.status == 200
    assert report.floor.ratio == pytest.approx(1.0)
    for row in report.rows:
        assert row.median_ms > 0
        assert row.ratio > 0
        assert row.queries > 0
    markdown = bench.render_markdown(report, dataset=tiny_dataset, machine={"CPU": "test"})
    assert markdown.count("\n| ") == len(pages) + 2  # header + floor + pages


def test_refuses_sqlite_without_the_flag(db, tmp_path, monkeypatch):
    # CI runs the suite on PostgreSQL; pretend the configured database is SQLite.
    monkeypatch.setattr(bench, "connection", SimpleNamespace(vendor="sqlite"))

    with pytest.raises(CommandError, match="allow-sqlite"):
        call_command("bench", "--output", str(tmp_path / "bench.md"))
