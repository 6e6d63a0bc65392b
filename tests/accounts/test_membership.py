"""At most one role per (user, brand), guaranteed by the database: the Membership row and
the guardian grant are written together, and the migration built memberships from the
grants that existed before."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction

from koastops.accounts import policies
from koastops.accounts.models import (
    AdAccountUserObjectPermission,
    BrandUserObjectPermission,
    Membership,
    Role,
)
from tests.factories import AdAccountFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("koastops.accounts.migrations.0005_membership_from_role_grants")


def role_grants(user, brand) -> list[str]:
    return sorted(
        BrandUserObjectPermission.objects.filter(
            user=user, content_object=brand, permission__codename__startswith="role_"
        ).values_list("permission__codename", flat=True)
    )


def test_granting_writes_the_membership_and_the_guardian_grant(brand):
    user = UserFactory()
    assert policies.grant_role(user, brand, Role.ANALYST) is None
    assert policies.grant_role(user, brand, Role.MEDIA_BUYER) == Role.ANALYST
    [membership] = Membership.objects.filter(user=user, brand=brand)
    assert membership.role == Role.MEDIA_BUYER
    assert role_grants(user, brand) == ["role_media_buyer"]


def test_revoking_removes_both_and_the_narrowing(brand):
    user = UserFactory()
    policies.grant_role(user, brand, Role.MEDIA_BUYER)
    policies.set_ad_account_narrowing(user, brand, [AdAccountFactory(brand=brand)])
    assert policies.revoke_role(user, brand) == Role.MEDIA_BUYER
    assert not Membership.objects.filter(user=user).exists()
    assert role_grants(user, brand) == []
    assert not AdAccountUserObjectPermission.objects.filter(user=user).exists()


def test_the_database_refuses_a_second_role_on_one_brand(brand, foreign_brand):
    user = UserFactory()
    policies.grant_role(user, brand, Role.ANALYST)
    policies.grant_role(user, foreign_brand, Role.OPS_LEAD)  # another brand: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, brand=brand, role=Role.OPS_LEAD)


def test_role_for_reads_the_membership_in_one_query(brand, django_assert_num_queries):
    user = UserFactory()
    policies.grant_role(user, brand, Role.LEGAL_REVIEWER)
    with django_assert_num_queries(1):
        assert policies.role_for(user, brand) == Role.LEGAL_REVIEWER


def test_the_migration_keeps_the_latest_of_several_role_grants(brand, foreign_brand):
    """Before the constraint, two grants on one brand were possible; the migration keeps
    the most recent and deletes the older one, so both sides agree."""
    doubled, single = UserFactory(), UserFactory()
    permission = {
        role: Permission.objects.get(codename=role.codename, content_type__app_label="catalog")
        for role in Role
    }
    for user, brand_, role in [
        (doubled, brand, Role.OPS_LEAD),
        (doubled, brand, Role.ANALYST),  # later: kept
        (doubled, foreign_brand, Role.MEDIA_BUYER),
        (single, brand, Role.LEGAL_REVIEWER),
    ]:
        BrandUserObjectPermission.objects.create(
            user=user, content_object=brand_, permission=permission[role]
        )

    migration.memberships_from_grants(django_apps, None)

    assert sorted(Membership.objects.values_list("user_id", "brand_id", "role")) == sorted(
        [
            (doubled.pk, brand.pk, "analyst"),
            (doubled.pk, foreign_brand.pk, "media_buyer"),
            (single.pk, brand.pk, "legal_reviewer"),
        ]
    )
    assert role_grants(doubled, brand) == ["role_analyst"]
    assert policies.role_for(doubled, brand) == Role.ANALYST


def test_the_membership_factory_grants_through_the_policy(brand):
    membership = MembershipFactory(brand=brand, role=Role.MEDIA_BUYER)
    assert policies.role_for(membership.user, brand) == Role.MEDIA_BUYER
    assert role_grants(membership.user, brand) == ["role_media_buyer"]
