"""The naming checks against the brand's effective rules: pass, fail (with the failing
names by path and a suggestion), no rule, a broken stored rule (error)."""

from __future__ import annotations

import pytest

from koastops.launches.models import Ad, AdSet, Launch
from koastops.taxonomy import rules as taxonomy_rules
from tests.factories import LaunchFactory, NamingRuleFactory
from tests.launches.checks_support import grow, run

pytestmark = pytest.mark.django_db

GOOD = "de_conv_202612_spring"


@pytest.fixture(autouse=True)
def _fresh_rule_cache():
    taxonomy_rules.cache_clear()
    yield
    taxonomy_rules.cache_clear()


def _rule_for(launch: Launch, level: str, **kwargs) -> None:
    NamingRuleFactory(brand=launch.brand, level=level, **kwargs)


def _named(**names) -> Launch:
    launch = LaunchFactory(campaign_name=names.get("campaign", GOOD))
    AdSet.objects.filter(launch=launch).update(name=names.get("adset", GOOD))
    Ad.objects.filter(launch=launch).update(
        name=names.get("ad", GOOD), utm_campaign=names.get("utm", GOOD)
    )
    return launch


@pytest.mark.parametrize(
    ("key", "level"),
    [
        ("naming.campaign", "campaign"),
        ("naming.ad_sets", "adset"),
        ("naming.ads", "ad"),
        ("naming.utm_campaign", "utm_campaign"),
    ],
)
def test_matching_names_pass_and_no_rule_passes_saying_so(key: str, level: str) -> None:
    launch = _named()
    outcome = run(key, launch)
    assert outcome.status == "pass"
    assert "has no naming rule" in outcome.message
    assert outcome.details["rule_source"] == "none"
    _rule_for(launch, level)
    outcome = run(key, launch)
    assert outcome.status == "pass"
    assert "matches the naming rule" in outcome.message
    assert outcome.details["rule_source"] == "brand"


def test_campaign_name_that_does_not_match_fails_with_a_suggestion() -> None:
    launch = _named(campaign="de_leads_202612_spring")
    _rule_for(launch, "campaign")
    outcome = run("naming.campaign", launch)
    assert outcome.status == "fail"
    assert outcome.message == (
        "The campaign name “de_leads_202612_spring” does not match the naming rule: "
        "objective: `leads` is not allowed; did you mean `lead`? "
        "(try “de_lead_202612_spring”). Rename it."
    )
    assert outcome.details["failing"] == [
        {
            "path": "campaign_name",
            "name": "de_leads_202612_spring",
            "errors": ["objective: `leads` is not allowed; did you mean `lead`?"],
            "suggestion": "de_lead_202612_spring",
        }
    ]


def test_failing_ads_are_listed_by_path() -> None:
    launch = _named()
    grow(launch, 12)
    Ad.objects.filter(launch=launch, name="Ad 3").update(name="DE_conv_202612_x")
    _rule_for(launch, "ad")
    outcome = run("naming.ads", launch)
    assert outcome.status == "fail"
    paths = {item["path"]: item["name"] for item in outcome.details["failing"]}
    # Ad 1 is the factory's ad (renamed GOOD); Ads 2..12 are named "Ad n" and fail too.
    assert "ad_sets.0.ads.0.name" not in paths
    assert paths["ad_sets.0.ads.2.name"] == "DE_conv_202612_x"
    assert paths["ad_sets.1.ads.1.name"] == "Ad 12"
    assert len(paths) == 11 and outcome.details["checked"] == 12
    assert outcome.message.startswith("11 ad names do not match the naming rule, first “Ad 2”")


def test_ad_set_names_fail() -> None:
    launch = _named(adset="Ad set DE")
    _rule_for(launch, "adset")
    outcome = run("naming.ad_sets", launch)
    assert outcome.status == "fail"
    assert outcome.details["failing"][0]["path"] == "ad_sets.0.name"
    assert "The ad set name “Ad set DE” does not match the naming rule" in outcome.message


def test_empty_utm_campaign_fails() -> None:
    launch = _named(utm="")
    _rule_for(launch, "utm_campaign")
    outcome = run("naming.utm_campaign", launch)
    assert outcome.status == "fail"
    assert outcome.details["failing"][0] == {
        "path": "ad_sets.0.ads.0.utm_campaign",
        "name": "",
        "errors": ["The UTM campaign is empty."],
        "suggestion": None,
    }
    assert "an empty UTM campaign" in outcome.message


def test_install_default_rule_applies_when_the_brand_has_none() -> None:
    launch = _named(campaign="Spring sale")
    NamingRuleFactory(brand=None, level="campaign")
    outcome = run("naming.campaign", launch)
    assert outcome.status == "fail"
    assert outcome.details["rule_source"] == "default"


def test_broken_stored_rule_is_an_error() -> None:
    launch = _named()
    _rule_for(launch, "campaign", spec={"template": "{nope}", "tokens": {}})
    outcome = run("naming.campaign", launch)
    assert outcome.status == "error"
    assert outcome.message == (
        "The naming rule for campaign names is broken, so names could not be checked: ask "
        "an ops lead to fix it on the naming rules page."
    )
    assert outcome.details["problems"]


def test_rules_unreadable_is_an_error(monkeypatch) -> None:
    launch = _named()

    def broken(brand):
        raise RuntimeError("db gone")

    monkeypatch.setattr(taxonomy_rules, "level_rules", broken)
    outcome = run("naming.ads", launch)
    assert outcome.status == "error"
    assert "could not run" in outcome.message


def test_rules_are_read_once_per_run(django_assert_num_queries) -> None:
    from koastops.launches.checks import registry
    from tests.launches.checks_support import context

    launch = _named()
    _rule_for(launch, "campaign")
    ctx = context(launch)
    with django_assert_num_queries(1):
        for key in ("naming.campaign", "naming.ad_sets", "naming.ads", "naming.utm_campaign"):
            assert registry.evaluate(registry.get(key), ctx).status == "pass"
