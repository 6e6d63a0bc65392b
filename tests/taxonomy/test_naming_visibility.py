"""Who sees which naming rule, by content: every role of the own brand sees the own
brand's rule (marker in a vocabulary label) and the install default's; nobody but an admin
ever sees a foreign brand's rule, on any naming page or API answer, for either brand's
addresses."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.accounts.tokens import api_token_create
from tests.factories import AdminFactory, BrandFactory, NamingRuleFactory, UserFactory

pytestmark = pytest.mark.django_db

OWN = "zqnamingown"
FOREIGN = "zqnamingforeign"
DEFAULT = "zqnamingdefault"
_tokens = itertools.count(1)
ROLES = {
    "ops_lead": Role.OPS_LEAD,
    "media_buyer": Role.MEDIA_BUYER,
    "legal_reviewer": Role.LEGAL_REVIEWER,
    "analyst": Role.ANALYST,
}


def spec(marker: str) -> dict:
    return {
        "template": "{market}_{seq}",
        "case": "lower",
        "max_length": 60,
        "tokens": {
            "market": {
                "kind": "vocabulary",
                "values": [{"value": "de", "label": marker, "aliases": [f"{marker}x"]}],
            },
            "seq": {"kind": "number", "min_digits": 1, "max_digits": 3},
        },
    }


@pytest.fixture
def brands():
    own, foreign = BrandFactory(slug="own-n"), BrandFactory(slug="foreign-n")
    NamingRuleFactory(brand=own, level="campaign", spec=spec(OWN))
    NamingRuleFactory(brand=foreign, level="campaign", spec=spec(FOREIGN))
    NamingRuleFactory(brand=None, level="ad", spec=spec(DEFAULT))
    return own, foreign


def bodies(user, slug: str) -> list[str]:
    client = Client()
    client.force_login(user)
    base = f"/brands/{slug}/naming"
    texts = [
        client.get(f"{base}/").content.decode(),
        client.get(f"{base}/test/", {"level": "campaign", "name": "dd_1"}).content.decode(),
        client.get(f"{base}/build/", {"level": "campaign"}).content.decode(),
        client.post(f"{base}/bulk/", {"level": "campaign", "names": "dd_1"}).content.decode(),
        client.get(f"{base}/campaign/edit/").content.decode(),
    ]
    _, raw = api_token_create(user=user, name=f"vis {next(_tokens)}")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    texts.append(client.get(f"/api/v1/brands/{slug}/naming-rules", **auth).content.decode())
    texts.append(
        client.post(
            f"/api/v1/brands/{slug}/naming/validate",
            '{"level": "campaign", "names": ["dd_1"]}',
            content_type="application/json",
            **auth,
        ).content.decode()
    )
    return texts


@pytest.mark.parametrize("principal", [*ROLES, "outsider"])
def test_foreign_rules_never_show(brands, principal):
    own, foreign = brands
    user = UserFactory(email=f"{principal}@example.com")
    if principal in ROLES:
        policies.grant_role(user, own, ROLES[principal])
    for slug in (own.slug, foreign.slug):
        for text in bodies(user, slug):
            assert FOREIGN not in text
    rules_page = bodies(user, own.slug)[0]
    if principal in ROLES:
        assert OWN in rules_page and DEFAULT in rules_page
    else:
        assert OWN not in rules_page and DEFAULT not in rules_page


def test_admin_sees_each_brand_rule_on_its_own_pages_only(brands):
    own, foreign = brands
    admin = AdminFactory(email="vis-admin@example.com")
    own_text = "".join(bodies(admin, own.slug))
    assert OWN in own_text and FOREIGN not in own_text
    foreign_text = "".join(bodies(admin, foreign.slug))
    assert FOREIGN in foreign_text and OWN not in foreign_text
