"""``core.lookups.any_of``: the same rows as ``__in``, on every database."""

from __future__ import annotations

import pytest
from django.db.models import Q

from koastops.catalog.models import Pixel
from koastops.core.lookups import any_of
from tests.factories import BrandFactory, PixelFactory

pytestmark = pytest.mark.django_db


def test_any_of_matches_the_rows_of_in():
    brands = BrandFactory.create_batch(3)
    for brand in brands:
        PixelFactory.create_batch(2, brand=brand)
    ids = [brands[0].pk, brands[2].pk]
    expected = set(Pixel.objects.filter(brand_id__in=ids).values_list("pk", flat=True))
    assert set(Pixel.objects.filter(any_of("brand_id", ids)).values_list("pk", flat=True)) == (
        expected
    )
    assert not Pixel.objects.filter(any_of("brand_id", [])).exists()
    either = Pixel.objects.filter(Q(any_of("brand_id", [])) | Q(any_of("brand_id", ids[:1])))
    assert either.count() == 2
    assert Pixel.objects.exclude(any_of("brand_id", ids)).count() == 2
