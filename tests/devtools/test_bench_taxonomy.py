"""The tracking plan's and naming rules' part of ``manage.py bench``: the drift data set
is idempotent and drifts, the naming measurements are reported beside their targets."""

from __future__ import annotations

import pytest

from koastops.devtools import bench_taxonomy
from koastops.devtools.bench_taxonomy import NamingResult
from koastops.devtools.management.commands import bench
from koastops.taxonomy.drift import drift_for
from koastops.taxonomy.models import EventDefinition
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bench_brand(db):
    bench.seed_bench_data(brands=1, ad_accounts=1, pixels=1)
    return "bench-000"


def test_seed_drift_tops_the_plan_up_and_is_idempotent(bench_brand):
    first = bench_taxonomy.seed_bench_drift(slug=bench_brand, events=12)
    again = bench_taxonomy.seed_bench_drift(slug=bench_brand, events=12)

    assert first == again == {"events (bench-000)": 12, "naming rules (bench-000)": 2}
    brand = EventDefinition.objects.filter(brand__slug=bench_brand).first().brand
    kinds = sorted(item.kind for item in drift_for(brand))
    assert kinds == ["clash", "missing_params", "name_rule"]


def test_seed_drift_keeps_the_events_the_brand_already_has(bench_brand):
    brand = bench.Brand.objects.get(slug=bench_brand)
    EventDefinition.objects.create(brand=brand, name="BenchEvent000", content={"name": "x"})

    counts = bench_taxonomy.seed_bench_drift(slug=bench_brand, events=6)

    assert counts["events (bench-000)"] == 6
    assert EventDefinition.objects.filter(brand=brand, name="BenchEvent000").exists()


def test_measure_naming_reports_the_engine_and_the_validate_api(bench_brand):
    from koastops.accounts.tokens import api_token_create

    bench_taxonomy.seed_bench_drift(slug=bench_brand, events=5)
    _, token = api_token_create(user=AdminFactory(), name="bench")

    engine, api = bench_taxonomy.measure_naming(
        slug=bench_brand, api_token=token, runs=1, engine_names=500
    )

    assert engine.unit == "names/s"
    assert engine.value and engine.value > 0
    assert engine.met is (engine.value >= bench_taxonomy.ENGINE_TARGET)
    if not bench_taxonomy.validate_installed(bench_brand):  # another part of the feature
        assert api.value is None
        assert api.met is None
        assert "not installed" in api.note
        assert bench_taxonomy.naming_problems([engine, api]) == []
    else:
        assert api.status == 200
        assert api.value and api.value > 0


def test_naming_markdown_shows_each_number_beside_its_target():
    results = [
        NamingResult("naming engine throughput (one core)", 123456.7, "names/s", "≥ 50,000", True),
        NamingResult("API: validate 10,000 names", 1234.5, "ms", "< 1,000 ms", False, "median"),
        NamingResult("not there", None, "ms", "< 1,000 ms", None, "not measured", 404),
    ]

    lines = bench_taxonomy.naming_markdown(results)

    assert lines[0] == "## Naming rules"
    assert "| naming engine throughput (one core) | 123,457 names/s | ≥ 50,000 | yes |  |" in lines
    assert "| API: validate 10,000 names | 1,234.5 ms | < 1,000 ms | **no** | median |" in lines
    assert "| not there | — | < 1,000 ms | — | not measured |" in lines
    failing = NamingResult("API", 5.0, "ms", "< 1,000 ms", False, status=500)
    assert bench_taxonomy.naming_problems([*results, failing]) == [failing]


def test_the_drift_page_is_among_the_measured_pages():
    labels = {page.label: page.path for page in bench.bench_pages("bench-000")}

    assert labels["tracking-plan drift (one brand)"] == "/brands/bench-000/plan/drift/"
