"""The foundation's services end to end: create, sign off, void by edit, notes keep it."""

import pytest
from django.core.exceptions import PermissionDenied

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.consent import services
from koastops.consent.models import ConsentConfig
from koastops.consent.selectors import with_status
from tests.factories import AdminFactory, BrandFactory, UserFactory, _market


def _status(config):
    return with_status(ConsentConfig.objects.filter(pk=config.pk)).get().status


def test_sign_off_is_void_when_signed_content_changes_not_notes(db):
    brand, market = BrandFactory(), _market("DE")
    brand.markets.add(market)
    ops, legal, admin = UserFactory(), UserFactory(), AdminFactory()
    policies.grant_role(ops, brand, Role.OPS_LEAD)
    policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)
    from koastops.consent.content import defaults_for

    content = defaults_for("gdpr", "DE")
    config = services.config_save(
        user=ops, brand=brand, market=market, content=content, expected_version=0
    )
    assert _status(config) == "never_reviewed"
    with pytest.raises(PermissionDenied):
        services.consent_decide(
            user=admin, config=config, expected_hash=config.content_hash, decision="approved"
        )
    services.consent_decide(
        user=legal, config=config, expected_hash=config.content_hash, decision="approved"
    )
    assert _status(config) == "signed"
    config = services.config_save(
        user=ops,
        brand=brand,
        market=market,
        content=content,
        internal_notes="a note",
        expected_version=1,
    )
    assert _status(config) == "signed"
    content["wait_for_update"] = 800
    config = services.config_save(
        user=ops, brand=brand, market=market, content=content, expected_version=2
    )
    assert _status(config) == "changed"
