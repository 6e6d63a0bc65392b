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
    result = crm_bench.measure_crm_import(brand_slug=brand.slug, rows=300)
    assert result.status == "succeeded"
    assert result.rate > 0 and result.copy_rate > 0 and result.ratio > 0
    assert not Conversion.objects.filter(brand=brand).exists()
    assert list(tmp_path.rglob("*.csv")) == []
    text = "\n".join(crm_bench.crm_markdown(result))
    assert "| import rate |" in text and "rows/s" in text and "COPY" in text


def test_the_size_scales_with_the_dataset():
    assert crm_bench.crm_rows_for(200, 10) == 100_000
    assert crm_bench.crm_rows_for(2, 1) == 100
