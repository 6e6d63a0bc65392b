"""factory-boy factories for every model. Catalog objects are built directly (fast);
tests of the services call the services themselves."""

from __future__ import annotations

import factory
from django.utils import timezone

from koastops.accounts.models import User
from koastops.catalog.models import AdAccount, Brand, Market, Pixel, Platform
from koastops.core import crypto
from koastops.core.models import Heartbeat, WorkerPing

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AdminFactory(UserFactory):
    is_staff = True
    is_superuser = True


def market(code: str) -> Market:
    """Markets are reference data shipped by a migration: look them up, never create."""
    return Market.objects.get(code=code)


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n:03d}")
    slug = factory.Sequence(lambda n: f"brand-{n:03d}")
    description = "A brand made by a test."


class AdAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdAccount

    brand = factory.SubFactory(BrandFactory)
    platform = Platform.META
    external_id = factory.Sequence(lambda n: f"act_{1000000 + n}")
    name = factory.Sequence(lambda n: f"Ad account {n:03d}")
    currency = "EUR"
    time_zone = "Europe/Berlin"


class PixelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pixel
        skip_postgeneration_save = True

    brand = factory.SubFactory(BrandFactory)
    platform = Platform.META
    external_id = factory.Sequence(lambda n: f"{111222333000 + n}")
    name = factory.Sequence(lambda n: f"Pixel {n:03d}")
    capi_enabled = False

    class Params:
        with_token = factory.Trait(
            access_token_encrypted=factory.LazyFunction(lambda: crypto.encrypt("EAAB-test-token")),
            access_token_changed_at=factory.LazyFunction(timezone.now),
        )


class WorkerPingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkerPing

    requested_by = factory.SubFactory(AdminFactory)


class HeartbeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Heartbeat

    name = "beat"
    last_seen_at = factory.LazyFunction(timezone.now)
