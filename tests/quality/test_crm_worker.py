"""The CRM import on a real Celery worker (the broker and the database are real): the
page's progress fields move while the import's transaction is still open, and the import
ends imported with its counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.quality import conversion_services as services
from koastops.quality.models import Conversion, ConversionImport
from tests.factories import BrandFactory, EventDefinitionFactory, UserFactory
from tests.system.test_worker import running_worker, wait_for

HEADER = "event,occurred_at,external_id,value,currency,ad_account,campaign\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_with_progress(monkeypatch):
    brand = BrandFactory()
    EventDefinitionFactory(brand=brand, name="Purchase")
    analyst = UserFactory()
    policies.grant_role(analyst, brand, Role.ANALYST)
    monkeypatch.setattr(services, "BATCH_SIZE", 500)
    seen: list[tuple[int, int]] = []
    report = services._Progress.report

    def spy(self, processed: int, total: int) -> None:
        report(self, processed, total)
        # what a reader sees meanwhile (read committed: the progress connection commits)
        row = ConversionImport.objects.filter(pk=self.import_id).values_list(
            "processed_rows", "total_rows", "status"
        )[0]
        seen.append(row)

    monkeypatch.setattr(services._Progress, "report", spy)
    body = "".join(
        f"Purchase,2026-11-{1 + i % 28:02d}T10:00:00Z,o-{i},1.00,EUR,,\n" for i in range(3000)
    )
    with running_worker():
        record = services.conversion_upload(
            actor=analyst,
            brand=brand,
            file=SimpleUploadedFile("big.csv", (HEADER + body).encode()),
            mode="all",
            source="crm",
        )

        def done() -> bool:
            record.refresh_from_db()
            return record.status not in ("queued", "running")

        assert wait_for(done), record.status
    assert record.status == "succeeded", record.message
    assert (record.total_rows, record.created_rows, record.processed_rows) == (3000, 3000, 3000)
    assert Conversion.objects.filter(brand=brand).count() == 3000
    running = [s for s in seen if s[2] == "running"]
    assert len(running) >= 5
    assert [p for p, _, _ in running] == sorted(p for p, _, _ in running)
    assert running[0][0] == 500 and 2500 <= running[0][1] <= 3500  # the estimate
