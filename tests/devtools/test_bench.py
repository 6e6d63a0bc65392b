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
    assert f"| {bench.FLOOR_LABEL} |" in markdown


def test_refuses_sqlite_without_the_flag(db, tmp_path, monkeypatch):
    # CI runs the suite on PostgreSQL; pretend the configured database is SQLite.
    monkeypatch.setattr(bench, "connection", SimpleNamespace(vendor="sqlite"))

    with pytest.raises(CommandError, match="allow-sqlite"):
        call_command("bench", "--output", str(tmp_path / "bench.md"))


@pytest.fixture
def small_bench(monkeypatch, db):
    """The whole command on a tiny dataset (few members and activity rows)."""
    monkeypatch.setattr(bench, "BENCH_MEMBERS", 2)
    monkeypatch.setattr(bench, "BENCH_ACTIVITY_ROWS", 3)
    return [
        "bench",
        "--allow-sqlite",
        "--brands=2",
        "--ad-accounts=1",
        "--pixels=1",
        "--runs=1",
        "--warmup=0",
        "--engine-names=2000",
        "--quality-pixels=3",
        "--quality-hours=4",
        "--pull-pixels=2",
        "--checklist-ads=0",  # its own test: tests/launches/test_runner_bench.py
    ]


def test_command_shows_every_floor_and_leaves_no_tokens(small_bench, tmp_path):
    from koastops.accounts.models import ApiToken

    output = tmp_path / "bench.md"

    call_command(*small_bench, f"--output={output}")

    markdown = output.read_text()
    assert f"| {bench.FLOOR_LABEL} — admin run |" in markdown
    assert f"| {bench.FLOOR_LABEL} — ops lead run |" in markdown
    assert "ops lead on every brand" in markdown
    assert not ApiToken.objects.filter(name="bench").exists()


def test_command_refuses_to_write_when_a_page_fails(small_bench, tmp_path, monkeypatch):
    from koastops.accounts.models import ApiToken

    real_pages = bench.bench_pages
    monkeypatch.setattr(
        bench,
        "bench_pages",
        lambda slug, api_token="": [
            *real_pages(slug, api_token=api_token),
            bench.Page("missing page", "/brands/no-such-brand/"),
        ],
    )
    output = tmp_path / "bench.md"

    with pytest.raises(CommandError, match=r"missing page \(/brands/no-such-brand/\): 404"):
        call_command(*small_bench, f"--output={output}")

    assert not output.exists()
    assert not ApiToken.objects.filter(name="bench").exists()
