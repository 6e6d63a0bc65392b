"""Every model has a factory, and the factories build valid rows through the services."""

from django.apps import apps

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.accounts.tokens import api_token_authenticate
from koastops.activity.services import activity_verify
from tests import factories

# Rows made by migrations or by third-party apps, not by our tests.
NOT_OURS = {"Market", "BrandGroupObjectPermission", "AdAccountGroupObjectPermission"}


def test_every_project_model_has_a_factory():
    ours = {
        model.__name__
        for model in apps.get_models()
        if model.__module__.startswith("koastops.") and model.__name__ not in NOT_OURS
    }
    covered = {
        value._meta.model.__name__
        for value in vars(factories).values()
        if isinstance(value, type)
        and issubclass(value, factories.factory.django.DjangoModelFactory)
        and value._meta.model is not None
    }
    assert ours - covered == set()


def test_token_activity_and_grant_factories_use_the_services(db):
    token = factories.ApiTokenFactory()
    assert api_token_authenticate(token.raw) == token.user
    factories.ActivityEntryFactory.create_batch(3)
    assert activity_verify().ok
    grant = factories.RoleGrantFactory(role=Role.OPS_LEAD)
    assert policies.role_for(grant.user, grant.content_object) == Role.OPS_LEAD


def test_narrowing_factory_narrows_a_media_buyer(db):
    narrowing = factories.AdAccountNarrowingFactory()
    brand = narrowing.content_object.brand
    factories.AdAccountFactory(brand=brand)
    assert list(policies.ad_accounts_for(narrowing.user, brand)) == [narrowing.content_object]
