"""The CRM import benchmark (koastops.devtools.bench_quality_crm), at a small size."""

from __future__ import annotations

import pytest

from koastops.devtools import bench_quality_crm as crm_bench
from koastops.quality.models import Conversion


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.django_db
def test_measures_the_import_against_copy_and_leaves_nothing(brand, tmp_path):
    from koastops.taxonomy.content import parse_event
    from koastops.taxonomy.models import EventDefinition

    result = crm_bench.measure_crm_import(rows=300)
    assert result.status == "succeeded"
    assert result.rate > 0 and result.copy_rate > 0 and result.ratio > 0
    assert not Conversion.objects.exists()
    # On a brand of its own, with a valid event: the other brands' plans are untouched.
    assert not EventDefinition.objects.filter(brand=brand).exists()
    event = EventDefinition.objects.get(brand__slug=crm_bench.CRM_BRAND_SLUG)
    assert parse_event(event.content).name == "BenchCrmPurchase"
    assert list(tmp_path.rglob("*.csv")) == []
    text = "\n".join(crm_bench.crm_markdown(result))
    assert "| import rate |" in text and "rows/s" in text and "COPY" in text


def test_the_size_scales_with_the_dataset():
    assert crm_bench.crm_rows_for(200, 10) == 100_000
    assert crm_bench.crm_rows_for(2, 1) == 100
