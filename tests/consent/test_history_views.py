"""The sign-off history of one market's consent config (consent:history)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.consent import content as consent_content
from koastops.consent.models import ConsentConfig
from tests.factories import (
    AdminFactory,
    BrandFactory,
    ConsentConfigFactory,
    ConsentSignOffFactory,
    PixelFactory,
    UserFactory,
    _market,
)

HOSTILE = '<script>alert(1)</script> "quoted" </script>\nsecond line'


@pytest.fixture
def world(db):
    brand = BrandFactory(name="Nordwind", slug="nordwind")
    market = _market("DE", "gdpr")
    legal, analyst, ops = UserFactory(), UserFactory(), UserFactory()
    policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)
    policies.grant_role(analyst, brand, Role.ANALYST)
    policies.grant_role(ops, brand, Role.OPS_LEAD)
    config = ConsentConfigFactory(brand=brand, market=market, content_changed_by=ops)
    foreign = BrandFactory(name="Foreign Secret Brand", slug="foreign-secret")
    foreign_config = ConsentConfigFactory(brand=foreign, market=market)
    ConsentSignOffFactory(config=foreign_config, comment="FOREIGN-COMMENT-XYZ")

    class World:
        pass

    w = World()
    w.brand, w.market, w.config = brand, market, config
    w.legal, w.analyst, w.ops = legal, analyst, ops
    w.foreign = foreign
    return w


def _url(brand, code="de", query=""):
    url = reverse("consent:history", kwargs={"slug": brand.slug, "market": code})
    return f"{url}?{query}" if query else url


def _change_content(config, **changes):
    content = {**config.content, **changes}
    ConsentConfig.objects.filter(pk=config.pk).update(
        content=content,
        content_hash=consent_content.content_hash(config.market.code, content),
        version=config.version + 1,
    )
    config.refresh_from_db()
    return config


def _decisions(config, count, reviewer):
    start = timezone.now() - timedelta(days=count)
    made = []
    for index in range(count):
        _change_content(config, wait_for_update=100 + index)
        made.append(
            ConsentSignOffFactory(
                config=config,
                reviewer=reviewer,
                decided_at=start + timedelta(days=index),
                expires_at=start + timedelta(days=index + 365),
            )
        )
    return made


def test_empty_state_for_a_legal_reviewer_links_to_the_review(client, world):
    client.force_login(world.legal)
    response = client.get(_url(world.brand))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Never reviewed yet" in html
    review = reverse("consent:review", kwargs={"slug": world.brand.slug, "market": "de"})
    assert f'href="{review}"' in html
    assert "Foreign Secret Brand" not in html and "FOREIGN-COMMENT-XYZ" not in html


def test_empty_state_without_the_review_link_for_others(client, world):
    client.force_login(world.analyst)
    html = client.get(_url(world.brand)).content.decode()
    assert "Never reviewed yet" in html
    assert "Legal reviewers of this brand can review" in html
    assert "/consent/de/review/" not in html


def test_admin_without_the_role_sees_history_but_no_review_link(client, world):
    ConsentSignOffFactory(config=world.config, reviewer=world.legal)
    client.force_login(AdminFactory())
    response = client.get(_url(world.brand))
    assert response.status_code == 200
    # No consent review link (the sidebar's launch approval queue is another page).
    assert "/consent/de/review/" not in response.content.decode()


def test_rows_show_every_decision_newest_first(client, world):
    PixelFactory(brand=world.brand, external_id="PX123", name="Shop pixel")
    first = ConsentSignOffFactory(
        config=world.config,
        reviewer=world.legal,
        decision="rejected",
        reasons=["gating", "other"],
        comment=HOSTILE,
        decided_at=timezone.now() - timedelta(days=3),
    )
    content = {**world.config.content, "pixels": [{"id": "PX123", "category": "marketing"}]}
    _change_content(world.config, **content)
    second = ConsentSignOffFactory(config=world.config, reviewer=world.legal)
    client.force_login(world.analyst)
    html = client.get(_url(world.brand)).content.decode()
    # newest first
    assert html.index(second.content_hash[:12]) < html.index(first.content_hash[:12])
    # short hash, the full one in the title
    assert f'<code title="{second.content_hash}">{second.content_hash[:12]}</code>' in html
    # reasons by label, comment escaped with its line break
    assert "Pixels or events fire before consent" in html
    assert "Other (explain in the comment)" in html
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &lt;/script&gt;<br>second line"
    ) in html
    assert "<script>alert(1)" not in html
    # current and valid; the older one superseded
    assert "<strong>Current</strong>, valid" in html
    assert "Superseded" in html
    assert second.expires_at.strftime("%b %Y") in html
    # the exact content, and the diff to the decision before
    assert "Shop pixel" in html and "PX123" in html
    assert "Changes from the decision before" in html
    assert "Pixel PX123" in html
    assert "The first decision on this config." in html
    assert "Foreign Secret Brand" not in html and "FOREIGN-COMMENT-XYZ" not in html


def test_current_but_void_after_a_change(client, world):
    ConsentSignOffFactory(config=world.config, reviewer=world.legal)
    _change_content(world.config, wait_for_update=900)
    client.force_login(world.analyst)
    html = client.get(_url(world.brand)).content.decode()
    assert "<strong>Current</strong>, not valid" in html
    assert "Changed since sign-off" in html


def test_pagination(client, world):
    made = _decisions(world.config, 25, world.legal)
    client.force_login(world.analyst)
    first = client.get(_url(world.brand)).content.decode()
    assert "Page 1 of 2 (25 in all)" in first
    assert made[-1].content_hash[:12] in first
    assert made[0].content_hash[:12] not in first
    second = client.get(_url(world.brand, query="page=2")).content.decode()
    assert "Page 2 of 2" in second
    assert made[0].content_hash[:12] in second
    # the oldest row of page 1 still gets its diff to the decision on page 2
    assert second.count("The first decision on this config.") == 1
    assert first.count("<h3>Changes from the decision before</h3>") == 20


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999", "%00", "2"])
def test_bad_page_numbers_never_500(client, world, page):
    _decisions(world.config, 3, world.legal)
    client.force_login(world.analyst)
    assert client.get(_url(world.brand, query=f"page={page}")).status_code == 200


def test_htmx_paging_swaps_only_the_table(client, world):
    _decisions(world.config, 2, world.legal)
    client.force_login(world.analyst)
    response = client.get(
        _url(world.brand), headers={"HX-Request": "true", "HX-Target": "history-table"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="history-table">')
    assert "<html" not in html


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_constant_queries(client, world):
    client.force_login(world.analyst)
    ConsentSignOffFactory(config=world.config, reviewer=world.legal)
    client.get(_url(world.brand))  # warm the per-process caches
    one = _queries(client, _url(world.brand))
    _decisions(world.config, 30, world.legal)
    many = _queries(client, _url(world.brand))
    assert many <= one + 1  # + one look at the decision before the page's oldest


def test_constant_queries_bound(client, world, django_assert_max_num_queries):
    _decisions(world.config, 30, world.legal)
    client.force_login(world.analyst)
    with django_assert_max_num_queries(12):
        assert client.get(_url(world.brand)).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(_url(world.brand, query="page=2")).status_code == 200


def test_foreign_brand_and_unknown_market_404(client, world):
    client.force_login(world.legal)
    assert client.get(_url(world.foreign)).status_code == 404
    assert client.get(_url(world.brand, "fr")).status_code == 404
    assert client.get(_url(world.brand, "xx")).status_code == 404


def test_outsider_404(client, world):
    client.force_login(UserFactory())
    assert client.get(_url(world.brand)).status_code == 404
