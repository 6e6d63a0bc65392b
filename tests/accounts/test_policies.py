import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.services import activity_record
from tests.factories import AdAccountFactory, BrandFactory, PixelFactory, UserFactory


@pytest.fixture
def buyer(brand):
    user = UserFactory(email="buyer@example.com")
    policies.grant_role(user, brand, Role.MEDIA_BUYER)
    return user


def test_user_without_role_sees_no_brand_and_gets_404(plain_user, brand):
    assert list(policies.brands_for(plain_user)) == []
    with pytest.raises(Http404):
        policies.brand_for_view(plain_user, brand.slug)


def test_role_on_one_brand_shows_only_that_brand(buyer, brand, foreign_brand):
    assert list(policies.brands_for(buyer)) == [brand]
    assert policies.brand_for_view(buyer, brand.slug) == brand
    with pytest.raises(Http404):
        policies.brand_for_view(buyer, foreign_brand.slug)


def test_admin_sees_every_brand(admin_user, brand, foreign_brand):
    assert set(policies.brands_for(admin_user)) == {brand, foreign_brand}
    assert policies.can(admin_user, "brand.create")


def test_one_role_per_brand_and_changing_it_replaces_the_old(buyer, brand):
    previous = policies.grant_role(buyer, brand, Role.ANALYST)
    assert previous == Role.MEDIA_BUYER
    assert policies.role_for(buyer, brand) == Role.ANALYST
    assert policies.revoke_role(buyer, brand) == Role.ANALYST
    assert policies.role_for(buyer, brand) is None
    assert list(policies.brands_for(buyer)) == []


@pytest.mark.parametrize(
    ("role", "capability", "allowed"),
    [
        (Role.OPS_LEAD, "catalog.manage", True),
        (Role.OPS_LEAD, "members.manage", True),
        (Role.MEDIA_BUYER, "catalog.manage", False),
        (Role.MEDIA_BUYER, "catalog.view", True),
        (Role.ANALYST, "members.manage", False),
        (Role.LEGAL_REVIEWER, "consent.sign_off", True),
        (Role.ANALYST, "conversions.upload", True),
        (Role.OPS_LEAD, "brand.edit", False),
    ],
)
def test_capabilities_follow_the_role(brand, role, capability, allowed):
    user = UserFactory()
    policies.grant_role(user, brand, role)
    assert policies.can(user, capability, brand) is allowed


def test_capability_on_a_foreign_brand_is_refused(brand, foreign_brand):
    lead = UserFactory()
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    assert policies.can(lead, "catalog.manage", brand)
    assert not policies.can(lead, "catalog.manage", foreign_brand)
    with pytest.raises(PermissionDenied):
        policies.require(policies.can(lead, "catalog.manage", foreign_brand))


def test_deactivated_user_loses_everything_at_once(buyer, brand):
    buyer.is_active = False
    buyer.save()
    assert list(policies.brands_for(buyer)) == []
    assert policies.role_for(buyer, brand) is None
    assert not policies.can(buyer, "catalog.view", brand)


def test_unknown_capability_is_a_bug(buyer, brand):
    with pytest.raises(KeyError):
        policies.can(buyer, "launch.teleport", brand)


def test_narrowed_media_buyer_sees_only_chosen_ad_accounts(buyer, brand):
    first, second, third = AdAccountFactory.create_batch(3, brand=brand)
    AdAccountFactory(brand=BrandFactory())  # another brand's account never shows
    assert set(policies.ad_accounts_for(buyer, brand)) == {first, second, third}
    policies.set_ad_account_narrowing(buyer, brand, [second])
    assert list(policies.ad_accounts_for(buyer, brand)) == [second]
    policies.grant_role(buyer, brand, Role.ANALYST)  # not a buyer any more: narrowing goes
    assert set(policies.ad_accounts_for(buyer, brand)) == {first, second, third}


def test_narrowed_media_buyer_sees_pixels_of_chosen_accounts_or_of_none(buyer, brand):
    chosen, other = AdAccountFactory.create_batch(2, brand=brand)
    shared, other_only, unlinked = PixelFactory.create_batch(3, brand=brand)
    shared.ad_accounts.set([chosen, other])
    other_only.ad_accounts.set([other])
    assert set(policies.pixels_for(buyer, brand)) == {shared, other_only, unlinked}
    policies.set_ad_account_narrowing(buyer, brand, [chosen])
    assert set(policies.pixels_for(buyer, brand)) == {shared, unlinked}
    # Narrowing on one brand says nothing about another brand's pixels.
    elsewhere = PixelFactory(brand=BrandFactory())
    elsewhere.ad_accounts.set([AdAccountFactory(brand=elsewhere.brand)])
    policies.grant_role(buyer, elsewhere.brand, Role.MEDIA_BUYER)
    assert list(policies.pixels_for(buyer, elsewhere.brand)) == [elsewhere]


def test_a_known_role_gives_the_same_rows_and_keeps_a_narrowed_buyer_narrowed(buyer, brand):
    """Passing the role (views know it) only skips the narrowing subqueries for roles that
    cannot be narrowed; a media buyer's narrowing still applies."""
    chosen, other = AdAccountFactory.create_batch(2, brand=brand)
    linked = PixelFactory(brand=brand)
    linked.ad_accounts.set([other])
    policies.set_ad_account_narrowing(buyer, brand, [chosen])
    role = policies.role_for(buyer, brand)
    assert role == Role.MEDIA_BUYER
    assert list(policies.ad_accounts_for(buyer, brand, role=role)) == [chosen]
    assert list(policies.pixels_for(buyer, brand, role=role)) == []
    policies.grant_role(buyer, brand, Role.ANALYST)
    role = policies.role_for(buyer, brand)
    assert set(policies.ad_accounts_for(buyer, brand, role=role)) == {chosen, other}
    assert set(policies.pixels_for(buyer, brand, role=role)) == {linked}
    assert "EXISTS" not in str(policies.pixels_for(buyer, brand, role=role).query).upper()


def test_activity_rows_follow_what_the_role_may_see(buyer, brand, admin_user):
    chosen, other = AdAccountFactory.create_batch(2, brand=brand)
    member = UserFactory()
    with transaction.atomic():
        rows = {
            "brand": activity_record(
                verb="brand.updated", actor=admin_user, target=brand, brand=brand
            ),
            "chosen": activity_record(
                verb="ad_account.updated", actor=admin_user, target=chosen, brand=brand
            ),
            "other": activity_record(
                verb="ad_account.updated", actor=admin_user, target=other, brand=brand
            ),
            "member": activity_record(
                verb="member.invited", actor=admin_user, target=member, brand=brand
            ),
        }

    def seen(user) -> set[str]:
        ids = set(policies.activity_for(user, brand).values_list("pk", flat=True))
        return {name for name, row in rows.items() if row.pk in ids}

    assert seen(admin_user) == {"brand", "chosen", "other", "member"}
    assert seen(buyer) == {"brand", "chosen", "other"}
    policies.set_ad_account_narrowing(buyer, brand, [chosen])
    assert seen(buyer) == {"brand", "chosen"}
    policies.grant_role(buyer, brand, Role.OPS_LEAD)
    assert seen(buyer) == {"brand", "chosen", "other", "member"}
    policies.revoke_role(buyer, brand)
    assert seen(buyer) == set()


def test_scoped_brand_list_is_one_query_for_1_or_50_brands(db, django_assert_num_queries):
    user = UserFactory()
    policies.grant_role(user, BrandFactory(), Role.ANALYST)
    with django_assert_num_queries(1):
        assert len(list(policies.brands_for(user))) == 1
    for brand in BrandFactory.create_batch(49):
        policies.grant_role(user, brand, Role.ANALYST)
    with django_assert_num_queries(1):
        assert len(list(policies.brands_for(user))) == 50


@pytest.mark.parametrize("page", ["", "ad-accounts/", "pixels/", "members/", "activity/"])
def test_a_brand_page_resolves_the_role_once(brand, page):
    """The decorator reads the role with the brand (one query) and the page's templates
    reuse it: nothing asks ``role_for`` again."""
    from unittest import mock

    from django.test import Client

    lead = UserFactory()
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    client = Client()
    client.force_login(lead)
    with mock.patch.object(policies, "role_for", wraps=policies.role_for) as role_for:
        response = client.get(f"/brands/{brand.slug}/{page}")
    assert response.status_code == 200
    assert role_for.call_count == 0
