"""The bench measures the consent pages: configs for the measured brand (idempotent), the
matrix, a config's detail, its review page (admin run only: the bench admin holds the
legal-reviewer role there) and the consent API list."""

from __future__ import annotations

import pytest

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.consent.models import ConsentConfig, ConsentSignOff
from koastops.devtools.management.commands import bench

pytestmark = pytest.mark.django_db


@pytest.fixture
def bench_brand(db) -> str:
    bench.seed_bench_data(brands=2, ad_accounts=2, pixels=2)
    return bench.bench_slug(0)


def test_seed_consent_is_idempotent_and_gives_the_admin_the_reviewer_role(bench_brand):
    admin = bench.bench_admin()

    count = bench.seed_bench_consent(slug=bench_brand, admin=admin)
    state = (ConsentConfig.objects.count(), ConsentSignOff.objects.count())
    again = bench.seed_bench_consent(slug=bench_brand, admin=admin)

    assert count == again == 3  # one per market of the brand
    assert (ConsentConfig.objects.count(), ConsentSignOff.objects.count()) == state
    assert ConsentSignOff.objects.exists()
    assert policies.role_for(admin, ConsentConfig.objects.first().brand) == Role.LEGAL_REVIEWER


def test_the_consent_pages_are_measured_and_answer(bench_brand):
    from koastops.accounts.tokens import api_token_create

    admin = bench.bench_admin()
    bench.seed_bench_consent(slug=bench_brand, admin=admin)
    _, token = api_token_create(user=admin, name="bench", expires_in_days=1)

    pages = bench.bench_pages(bench_brand, api_token=token)

    labels = {page.label: page for page in pages}
    assert {
        "consent matrix (one brand)",
        "consent config detail",
        "consent review (legal reviewer)",
        "API: consent",
    } <= set(labels)
    assert labels["consent review (legal reviewer)"].admin_run_only
    assert not labels["consent matrix (one brand)"].admin_run_only
    consent_pages = [page for page in pages if "consent" in page.label.lower()]
    report = bench.measure(user=admin, pages=consent_pages, runs=1, warmup=0)
    assert {row.label: row.status for row in report.rows} == {
        page.label: 200 for page in consent_pages
    }
