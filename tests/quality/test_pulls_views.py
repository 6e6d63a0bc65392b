""" "Refresh now" and the polled pull status: who may, scoping to the pixels a user sees,
polling that stops when the run ends, and a constant query count."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.quality.models import PullRun
from tests.factories import (
    AdAccountFactory,
    PixelConnectionFactory,
    PixelFactory,
    PullRunFactory,
    UserFactory,
)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def member(brand, role, email: str):
    user = UserFactory(email=email)
    policies.grant_role(user, brand, role)
    return user


@pytest.fixture
def demo_pixel(pixel):
    PixelConnectionFactory(pixel=pixel, provider="demo")
    return pixel


def refresh_url(pixel) -> str:
    return reverse("quality:refresh", args=[pixel.brand.slug, pixel.pk])


def status_url(pixel, run) -> str:
    return reverse("quality:pull_status", args=[pixel.brand.slug, pixel.pk, run.pk])


def test_an_analyst_refreshes_with_htmx_and_gets_the_polling_fragment(
    brand, demo_pixel, htmx_headers, enqueued, django_capture_on_commit_callbacks
):
    analyst = client_for(member(brand, Role.ANALYST, "analyst@example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        response = analyst.post(refresh_url(demo_pixel), **htmx_headers)
    assert response.status_code == 200
    run = PullRun.objects.get()
    assert run.status == "queued"
    assert run.requested_by.email == "analyst@example.com"
    html = response.content.decode()
    assert f'id="pull-refresh-{demo_pixel.pk}"' in html
    assert 'hx-trigger="every 2s"' in html
    assert 'role="progressbar"' in html and 'aria-valuenow="0"' in html
    assert "demo data" in html
    assert enqueued.names == ["koastops.quality.pull_counts"]

    enqueued.run()
    done = analyst.get(status_url(demo_pixel, run), **htmx_headers)
    assert done.status_code == 286  # htmx stops polling
    body = done.content.decode()
    assert "every 2s" not in body
    assert "rows written" in body


def test_a_second_refresh_while_one_is_active_returns_the_same_run(brand, demo_pixel, htmx_headers):
    lead = client_for(member(brand, Role.OPS_LEAD, "lead@example.com"))
    lead.post(refresh_url(demo_pixel), **htmx_headers)
    lead.post(refresh_url(demo_pixel), **htmx_headers)
    assert PullRun.objects.count() == 1


def test_without_htmx_the_refresh_redirects_to_the_status_page(brand, demo_pixel):
    lead = client_for(member(brand, Role.OPS_LEAD, "lead@example.com"))
    response = lead.post(refresh_url(demo_pixel))
    run = PullRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == status_url(demo_pixel, run)
    page = lead.get(response["Location"])
    assert page.status_code == 200
    assert "Pull status of Shop pixel" in page.content.decode()


def test_a_failed_run_shows_its_error_escaped(brand, demo_pixel, htmx_headers):
    run = PullRunFactory(pixel=demo_pixel, status="failed", error="<b>Token</b> expired")
    viewer = client_for(member(brand, Role.LEGAL_REVIEWER, "legal@example.com"))
    response = viewer.get(status_url(demo_pixel, run), **htmx_headers)
    assert response.status_code == 286
    assert "&lt;b&gt;Token&lt;/b&gt; expired" in response.content.decode()


def test_an_active_run_keeps_polling(brand, demo_pixel, htmx_headers):
    run = PullRunFactory(pixel=demo_pixel, status="running", progress=40)
    viewer = client_for(member(brand, Role.MEDIA_BUYER, "buyer@example.com"))
    response = viewer.get(status_url(demo_pixel, run), **htmx_headers)
    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in response.content.decode()
    assert 'aria-valuenow="40"' in response.content.decode()


def test_roles_without_refresh_get_403_and_see_no_button(brand, demo_pixel):
    buyer = client_for(member(brand, Role.MEDIA_BUYER, "buyer@example.com"))
    assert buyer.post(refresh_url(demo_pixel)).status_code == 403
    run = PullRunFactory(pixel=demo_pixel)
    page = buyer.get(status_url(demo_pixel, run)).content.decode()
    assert "Refresh now" not in page
    assert not PullRun.objects.filter(status="queued").exists()


def test_a_narrowed_media_buyer_gets_404_for_a_pixel_outside_their_accounts(brand, demo_pixel):
    other_account = AdAccountFactory(brand=brand, name="Other")
    hidden = PixelFactory(brand=brand, name="Hidden pixel")
    hidden.ad_accounts.add(other_account)
    buyer = member(brand, Role.MEDIA_BUYER, "buyer@example.com")
    from koastops.accounts import services as access_services

    admin = UserFactory(is_superuser=True, is_staff=True, email="admin@example.com")
    access_services.member_narrow_ad_accounts(
        actor=admin, brand=brand, user=buyer, ad_accounts=list(demo_pixel.ad_accounts.all())
    )
    run = PullRunFactory(pixel=hidden, error="Hidden pixel marker")
    client = client_for(buyer)
    assert client.get(status_url(hidden, run)).status_code == 404
    visible = PullRunFactory(pixel=demo_pixel)
    assert client.get(status_url(demo_pixel, visible)).status_code == 200


def test_a_run_of_another_pixel_is_404(brand, demo_pixel):
    other = PixelFactory(brand=brand)
    run = PullRunFactory(pixel=other)
    lead = client_for(member(brand, Role.OPS_LEAD, "lead@example.com"))
    url = reverse("quality:pull_status", args=[brand.slug, demo_pixel.pk, run.pk])
    assert lead.get(url).status_code == 404


def test_wrong_methods(brand, demo_pixel):
    lead = client_for(member(brand, Role.OPS_LEAD, "lead@example.com"))
    assert lead.get(refresh_url(demo_pixel)).status_code == 405
    run = PullRunFactory(pixel=demo_pixel)
    assert lead.post(status_url(demo_pixel, run)).status_code == 405


def test_an_archived_pixel_is_refused_with_a_message(brand, htmx_headers):
    archived = PixelFactory(brand=brand, status="archived")
    lead = client_for(member(brand, Role.OPS_LEAD, "lead@example.com"))
    response = lead.post(refresh_url(archived), **htmx_headers)
    assert response.status_code == 409
    assert "archived" in response.content.decode()
    assert not PullRun.objects.exists()


@pytest.mark.parametrize("runs", [1, 30])
def test_the_status_fragment_answers_in_constant_queries(
    brand, demo_pixel, htmx_headers, runs, django_assert_max_num_queries
):
    for _ in range(runs - 1):
        PullRunFactory(pixel=demo_pixel)
    run = PullRunFactory(pixel=demo_pixel, status="running", requested_by=UserFactory())
    lead = client_for(member(brand, Role.OPS_LEAD, "lead@example.com"))
    with django_assert_max_num_queries(8):
        response = lead.get(status_url(demo_pixel, run), **htmx_headers)
    assert response.status_code == 200


def test_out_of_range_ids_are_404_not_500(brand, demo_pixel):
    lead = client_for(member(brand, Role.OPS_LEAD, "lead@example.com"))
    huge = "9" * 25
    base = f"/brands/{brand.slug}/quality/pixels"
    assert lead.get(f"{base}/{huge}/pulls/").status_code == 404
    assert lead.get(f"{base}/{demo_pixel.pk}/pulls/{huge}/").status_code == 404
    assert lead.post(f"{base}/{huge}/refresh/").status_code == 404
