"""The pure content module: the canonical form, every refusal at its path, the hash over
exactly the signed content and the market, the regime defaults, the known-mistake
warnings and the diff. No database, no Django."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koastops.consent import content as cc
from koastops.consent.content import ContentError, content_hash, defaults_for, parse_content

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same examples in every run: CI never flakes on a new one
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def valid(**overrides: Any) -> dict[str, Any]:
    """A full, valid document (already canonical) with ``overrides`` on top."""
    document: dict[str, Any] = {
        "platform": "custom",
        "platform_name": "Acme CMP",
        "defaults": dict.fromkeys(cc.SIGNALS, "denied"),
        "mode": "basic",
        "wait_for_update": 500,
        "regions": ["DE"],
        "pixels": [
            {"id": "111222333444", "category": "marketing"},
            {"id": "555666777888", "category": "analytics"},
        ],
        "events": [
            {"name": "Lead", "category": "marketing"},
            {"name": "Purchase", "category": "marketing"},
        ],
        "meta": {"revoke_before_init": True, "grant_on": "marketing"},
        "ldu": {"enabled": False, "country": 0, "state": 0},
    }
    document.update(overrides)
    return document


def errors_of(data: Any) -> dict[str, list[str]]:
    with pytest.raises(ContentError) as caught:
        parse_content(data)
    return caught.value.by_path()


# --- the canonical form -------------------------------------------------------------------


def test_a_valid_document_is_its_own_canonical_form():
    assert parse_content(valid()) == valid()


def test_canonical_form_squashes_sorts_upper_cases_and_deduplicates():
    parsed = parse_content(
        valid(
            platform_name="  Acme \t  in-house\n CMP  ",
            regions=[" de", "at", "DE", "us-ca", "AT"],
            pixels=[
                {"id": " 999 ", "category": "marketing"},
                {"id": "111", "category": "analytics"},
                {"id": "B-pixel", "category": "none"},
                {"id": "a_pixel", "category": "marketing"},
            ],
            events=[
                {"name": "Purchase", "category": "marketing"},
                {"name": "add_to_cart", "category": "analytics"},
                {"name": "Lead", "category": "marketing"},
            ],
            wait_for_update="800",
            ldu={"enabled": True, "country": "1", "state": " 1000 "},
            meta={"revoke_before_init": True},
        )
    )
    assert parsed["platform_name"] == "Acme in-house CMP"
    assert parsed["regions"] == ["DE", "AT", "US-CA"]
    assert [p["id"] for p in parsed["pixels"]] == ["111", "999", "a_pixel", "B-pixel"]
    assert [e["name"] for e in parsed["events"]] == ["add_to_cart", "Lead", "Purchase"]
    assert parsed["wait_for_update"] == 800
    assert parsed["ldu"] == {"enabled": True, "country": 1, "state": 1000}
    assert parsed["meta"] == {"revoke_before_init": True, "grant_on": "marketing"}


def test_platform_name_only_kept_for_a_custom_platform():
    parsed = parse_content(valid(platform="onetrust", platform_name="Something"))
    assert (parsed["platform"], parsed["platform_name"]) == ("onetrust", "")


def test_empty_signal_is_not_set_and_missing_groups_take_their_defaults():
    document = valid(defaults={"ad_storage": "", "analytics_storage": "granted"})
    del document["meta"], document["ldu"], document["pixels"], document["events"]
    parsed = parse_content(document)
    assert parsed["defaults"] == {
        "ad_storage": None,
        "analytics_storage": "granted",
        "ad_user_data": None,
        "ad_personalization": None,
    }
    assert parsed["meta"] == {"revoke_before_init": False, "grant_on": "marketing"}
    assert parsed["ldu"] == {"enabled": False, "country": 0, "state": 0}
    assert (parsed["pixels"], parsed["events"]) == ([], [])


@pytest.mark.parametrize(
    ("document", "path"),
    [
        (valid(colour="red"), "colour"),
        (valid(defaults={**valid()["defaults"], "ad_click": "denied"}), "defaults.ad_click"),
        (valid(meta={"revoke_before_init": True, "extra": 1}), "meta.extra"),
        (valid(ldu={"enabled": False, "region": "CA"}), "ldu.region"),
        (valid(pixels=[{"id": "111", "category": "marketing", "name": "x"}]), "pixels.0.name"),
        (valid(events=[{"name": "Lead", "category": "none", "id": 4}]), "events.0.id"),
    ],
)
def test_unknown_fields_are_refused_at_their_path(document, path):
    assert errors_of(document)[path] in (["Unknown field."], ["Unknown signal."])


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"platform": "trustarc"}, "platform"),
        ({"platform": ["custom"]}, "platform"),
        ({"platform": None}, "platform"),
        ({"platform_name": ""}, "platform_name"),
        ({"platform_name": "x" * 101}, "platform_name"),
        ({"platform_name": 7}, "platform_name"),
        ({"platform_name": "Acme\x00CMP"}, "platform_name"),
        ({"platform_name": "Acme\ud800"}, "platform_name"),
        ({"defaults": {"ad_storage": "yes"}}, "defaults.ad_storage"),
        ({"defaults": {"ad_user_data": True}}, "defaults.ad_user_data"),
        ({"defaults": {"ad_personalization": {"a": 1}}}, "defaults.ad_personalization"),
        ({"defaults": ["denied"]}, "defaults"),
        ({"mode": "full"}, "mode"),
        ({"wait_for_update": -1}, "wait_for_update"),
        ({"wait_for_update": 10_001}, "wait_for_update"),
        ({"wait_for_update": 1.5}, "wait_for_update"),
        ({"wait_for_update": True}, "wait_for_update"),
        ({"wait_for_update": "²"}, "wait_for_update"),
        ({"wait_for_update": "9" * 5000}, "wait_for_update"),
        ({"regions": []}, "regions"),
        ({"regions": "DE"}, "regions"),
        ({"regions": ["DE", "Germany"]}, "regions.1"),
        ({"regions": ["DE", 49]}, "regions.1"),
        ({"pixels": {"id": "1"}}, "pixels"),
        ({"pixels": ["111"]}, "pixels.0"),
        ({"pixels": [{"id": "has space", "category": "marketing"}]}, "pixels.0.id"),
        ({"pixels": [{"id": "", "category": "marketing"}]}, "pixels.0.id"),
        ({"pixels": [{"category": "marketing"}]}, "pixels.0.id"),
        ({"pixels": [{"id": "1", "category": "ads"}]}, "pixels.0.category"),
        (
            {"pixels": [{"id": "ab", "category": "none"}, {"id": "AB", "category": "none"}]},
            "pixels.1.id",
        ),
        ({"events": [{"name": "<script>", "category": "none"}]}, "events.0.name"),
        ({"events": [{"name": "Lead", "category": None}]}, "events.0.category"),
        ({"events": [{"name": "x" * 51, "category": "none"}]}, "events.0.name"),
        ({"meta": {"revoke_before_init": "yes"}}, "meta.revoke_before_init"),
        ({"meta": {"grant_on": "none"}}, "meta.grant_on"),
        ({"meta": {"grant_on": ["marketing"]}}, "meta.grant_on"),
        ({"meta": "on"}, "meta"),
        ({"ldu": {"enabled": 1}}, "ldu.enabled"),
        ({"ldu": {"country": 2}}, "ldu.country"),
        ({"ldu": {"country": True}}, "ldu.country"),
        ({"ldu": {"state": 6}}, "ldu.state"),
        ({"ldu": {"state": 1000.0}}, "ldu.state"),
    ],
)
def test_each_bad_value_is_reported_at_its_exact_path(overrides, path):
    errors = errors_of(valid(**overrides))
    assert path in errors, errors
    # Nothing else is blamed: the rest of the document is valid.
    assert set(errors) == {path}, errors


def test_every_problem_is_reported_at_once():
    errors = errors_of(
        valid(
            platform="nope",
            mode="nope",
            wait_for_update="soon",
            regions=["D"],
            pixels=[{"id": "1", "category": "x"}],
            events=[{"name": "", "category": "none"}],
        )
    )
    assert set(errors) == {
        "platform",
        "mode",
        "wait_for_update",
        "regions.0",
        "pixels.0.category",
        "events.0.name",
    }


@pytest.mark.parametrize("data", [None, [], [valid()], "content", 42, 1.5, True])
def test_input_that_is_not_an_object_is_refused(data):
    assert errors_of(data)["content"] == ["Expected an object."]


@pytest.mark.parametrize(
    ("field", "limit", "item"),
    [
        ("pixels", cc.MAX_PIXELS, lambda n: {"id": f"p{n}", "category": "none"}),
        ("events", cc.MAX_EVENTS, lambda n: {"name": f"e{n}", "category": "none"}),
        ("regions", cc.MAX_REGIONS, lambda n: f"D{chr(65 + n % 26)}-{n}"),
    ],
)
def test_huge_lists_are_refused_and_the_limit_is_accepted(field, limit, item):
    at_limit = [item(n) for n in range(limit)]
    assert len(parse_content(valid(**{field: at_limit}))[field]) == limit
    errors = errors_of(valid(**{field: [item(n) for n in range(limit + 1)]}))
    assert errors == {field: [f"At most {limit} entries."]}
    errors = errors_of(valid(**{field: [item(n) for n in range(100_000)]}))
    assert list(errors) == [field]


# --- properties -----------------------------------------------------------------------------

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "granted",
            "denied",
            "",
            "custom",
            "onetrust",
            "basic",
            "advanced",
            "marketing",
            "analytics",
            "none",
            "DE",
            " us-ca ",
            "1",
            "1000",
            "²",
            "500",
            "\x00",
        ]
    )
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_KEYS = st.sampled_from(list(cc._EMPTY))


def _near(value: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Documents close to a valid one: some top-level fields replaced by arbitrary values,
    so the parser's deeper paths are reached too."""
    return st.dictionaries(_KEYS, value, max_size=6).map(lambda edits: {**valid(), **edits})


_SIGNAL_VALUE = st.sampled_from(["granted", "denied", "", None])
_PIXEL = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["111", "222", " 333 ", "a-b", "A-B", "x y"]),
        "category": st.sampled_from(list(cc.CATEGORIES)),
    }
)
_ALMOST_VALID = st.builds(
    lambda defaults, pixels, regions, wait, name: valid(
        defaults=defaults,
        pixels=pixels,
        events=[{"name": p["id"], "category": p["category"]} for p in pixels],
        regions=regions,
        wait_for_update=wait,
        platform_name=name,
    ),
    st.fixed_dictionaries(dict.fromkeys(cc.SIGNALS, _SIGNAL_VALUE)),
    st.lists(_PIXEL, max_size=5),
    st.lists(st.sampled_from(["de", "DE", " at", "US-CA", "fr "]), min_size=1, max_size=5),
    st.one_of(st.integers(0, 10_000), st.sampled_from(["0", "500", " 42 "])),
    st.text(min_size=1, max_size=30),
)


@PROPERTY
@given(st.one_of(_JSON, _near(_JSON), _ALMOST_VALID))
def test_parse_only_ever_returns_a_document_or_raises_content_error(data):
    try:
        parsed = parse_content(data)
    except ContentError as exc:
        assert exc.by_path(), "a refusal names at least one path"
        assert all(isinstance(path, str) and messages for path, messages in exc.by_path().items())
        return
    assert isinstance(parsed, dict)
    assert set(parsed) == set(cc._EMPTY)
    # What is accepted can be hashed (and so stored and signed).
    assert len(content_hash("DE", parsed)) == 64


@PROPERTY
@given(st.one_of(_ALMOST_VALID, _near(_JSON)))
def test_parse_of_a_parsed_document_is_the_same_document(data):
    try:
        once = parse_content(data)
    except ContentError:
        return
    assert parse_content(copy.deepcopy(once)) == once


def test_the_property_strategy_reaches_valid_documents():
    """The idempotence property is vacuous if every example is refused: check that the
    almost-valid strategy produces accepted documents at all."""
    accepted = 0

    @settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @given(_ALMOST_VALID)
    def count(data):
        nonlocal accepted
        try:
            parse_content(data)
        except ContentError:
            return
        accepted += 1

    count()
    assert accepted > 20


# --- the hash --------------------------------------------------------------------------------


def test_hash_is_stable_across_key_order():
    document = parse_content(valid())
    reversed_keys = {key: document[key] for key in reversed(list(document))}
    reversed_keys["defaults"] = dict(reversed(list(document["defaults"].items())))
    reversed_keys["meta"] = dict(reversed(list(document["meta"].items())))
    assert list(reversed_keys) != list(document)
    assert content_hash("DE", reversed_keys) == content_hash("DE", document)
    # And the same input reordered (pixels, events) parses to the same hash.
    shuffled = valid(pixels=list(reversed(valid()["pixels"])), events=valid()["events"][::-1])
    assert content_hash("DE", parse_content(shuffled)) == content_hash("DE", document)


def test_hash_changes_with_the_market_but_not_its_case():
    document = parse_content(valid())
    assert content_hash("DE", document) != content_hash("AT", document)
    assert content_hash("de", document) == content_hash("DE", document)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(leaf) if leaf.isdigit() else leaf] = value

    return edit


# Every field of the signed content, changed to another valid value.
SIGNED_FIELD_EDITS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("platform", _set("platform", "cookiebot")),
    ("platform_name", _set("platform_name", "Acme CMP 2")),
    *[(f"defaults.{s} granted", _set(f"defaults.{s}", "granted")) for s in cc.SIGNALS],
    *[(f"defaults.{s} unset", _set(f"defaults.{s}", None)) for s in cc.SIGNALS],
    ("mode", _set("mode", "advanced")),
    ("wait_for_update", _set("wait_for_update", 501)),
    ("regions add", _set("regions", ["DE", "AT"])),
    ("regions replace", _set("regions", ["AT"])),
    ("pixel 0 category", _set("pixels.0.category", "analytics")),
    ("pixel 0 ungated", _set("pixels.0.category", "none")),
    ("pixel 1 category", _set("pixels.1.category", "marketing")),
    ("pixel added", lambda d: d["pixels"].append({"id": "999", "category": "marketing"})),
    ("pixel removed", lambda d: d["pixels"].pop()),
    ("event 0 category", _set("events.0.category", "analytics")),
    ("event added", lambda d: d["events"].append({"name": "Signup", "category": "marketing"})),
    ("event removed", lambda d: d["events"].pop(0)),
    ("meta.revoke_before_init", _set("meta.revoke_before_init", False)),
    ("meta.grant_on", _set("meta.grant_on", "analytics")),
    ("ldu.enabled", _set("ldu.enabled", True)),
    ("ldu.country", _set("ldu.country", 1)),
    ("ldu.state", _set("ldu.state", 1000)),
]


def test_the_edit_list_covers_every_field_of_the_content():
    names = " ".join(name for name, _ in SIGNED_FIELD_EDITS)
    fields = [*cc._EMPTY, *(f"defaults.{s}" for s in cc.SIGNALS)]
    fields += ["meta.revoke_before_init", "meta.grant_on", "ldu.enabled", "ldu.country"]
    fields += ["ldu.state", "pixel", "event"]
    missing = [field for field in fields if field.rstrip("s") not in names]
    assert missing == []


@pytest.mark.parametrize(
    ("name", "edit"), SIGNED_FIELD_EDITS, ids=[n for n, _ in SIGNED_FIELD_EDITS]
)
def test_hash_changes_with_every_signed_field(name, edit):
    before = parse_content(valid())
    document = copy.deepcopy(before)
    edit(document)
    after = parse_content(document)
    assert after != before, "the edit must change the canonical content"
    assert content_hash("DE", after) != content_hash("DE", before)
    # The diff names what changed (the review page shows it).
    assert cc.diff(before, after)


def test_internal_notes_are_not_content():
    assert "internal_notes" not in cc._EMPTY
    assert "internal_notes" in errors_of(valid(internal_notes="x"))


# --- defaults per regime -------------------------------------------------------------------


@pytest.mark.parametrize("regime", ["gdpr", "uk_gdpr", "lgpd"])
def test_defaults_where_consent_is_required_deny_and_gate_everything(regime):
    document = defaults_for(regime, "de", pixels=["111"], events=["Lead"])
    assert document["defaults"] == dict.fromkeys(cc.SIGNALS, "denied")
    assert document["mode"] == "basic"
    assert document["wait_for_update"] == 500
    assert document["regions"] == ["DE"]
    assert document["pixels"] == [{"id": "111", "category": "marketing"}]
    assert document["events"] == [{"name": "Lead", "category": "marketing"}]
    assert document["meta"] == {"revoke_before_init": True, "grant_on": "marketing"}
    assert document["ldu"] == {"enabled": False, "country": 0, "state": 0}


def test_defaults_for_us_states_grant_and_apply_limited_data_use():
    document = defaults_for("us_state", "us", pixels=["111"])
    assert document["defaults"] == dict.fromkeys(cc.SIGNALS, "granted")
    assert document["ldu"] == {"enabled": True, "country": 0, "state": 0}
    assert document["pixels"] == [{"id": "111", "category": "none"}]
    assert document["meta"]["revoke_before_init"] is False
    assert document["regions"] == ["US"]


def test_defaults_without_a_regime_grant_and_gate_nothing():
    document = defaults_for("none", "jp", pixels=["111"], events=["Lead"])
    assert document["defaults"] == dict.fromkeys(cc.SIGNALS, "granted")
    assert (document["mode"], document["wait_for_update"]) == ("advanced", 0)
    assert document["ldu"]["enabled"] is False
    assert document["pixels"] == [{"id": "111", "category": "none"}]
    assert document["events"] == [{"name": "Lead", "category": "none"}]


# --- warnings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regime", "market"),
    [("gdpr", "DE"), ("uk_gdpr", "GB"), ("lgpd", "BR"), ("us_state", "US"), ("none", "JP")],
)
def test_regime_defaults_trigger_no_warning(regime, market):
    document = defaults_for(regime, market, pixels=["111", "222"], events=["Lead"])
    assert cc.warnings(document, regime=regime) == []


def _paths(document: dict[str, Any], regime: str) -> list[str]:
    return [finding.path for finding in cc.warnings(parse_content(document), regime=regime)]


@pytest.mark.parametrize("regime", ["gdpr", "uk_gdpr", "lgpd"])
def test_ad_storage_granted_by_default_where_consent_is_required(regime):
    document = valid(defaults={**valid()["defaults"], "ad_storage": "granted"})
    assert _paths(document, regime) == ["defaults.ad_storage"]
    assert _paths(document, "none") == []


@pytest.mark.parametrize("signal", ["ad_user_data", "ad_personalization"])
@pytest.mark.parametrize("regime", ["gdpr", "none", "us_state"])
def test_consent_mode_v2_signal_missing(signal, regime):
    document = valid(
        defaults={**valid()["defaults"], signal: None},
        ldu={"enabled": regime == "us_state", "country": 0, "state": 0},
    )
    assert _paths(document, regime) == [f"defaults.{signal}"]


def test_marketing_pixel_not_gated_where_consent_is_required_is_named_by_its_index():
    document = valid(
        pixels=[
            {"id": "aaa", "category": "marketing"},
            {"id": "bbb", "category": "none"},
        ]
    )
    findings = cc.warnings(parse_content(document), regime="gdpr")
    assert [f.path for f in findings] == ["pixels.1.category"]
    assert "bbb" in findings[0].message
    assert _paths(document, "us_state") == []


@pytest.mark.parametrize("regime", ["gdpr", "uk_gdpr", "lgpd", "none"])
def test_limited_data_use_outside_us_markets(regime):
    document = valid(ldu={"enabled": True, "country": 1, "state": 1000})
    assert _paths(document, regime) == ["ldu.enabled"]
    assert _paths(document, "us_state") == []


def test_meta_not_revoked_before_init_where_consent_is_required():
    document = valid(meta={"revoke_before_init": False, "grant_on": "marketing"})
    assert _paths(document, "gdpr") == ["meta.revoke_before_init"]
    assert _paths(document, "none") == []


def test_warnings_by_path_groups_messages():
    document = valid(defaults=dict.fromkeys(cc.SIGNALS, "granted"), ldu={"enabled": True})
    grouped = cc.warnings_by_path(cc.warnings(parse_content(document), regime="gdpr"))
    assert set(grouped) == {f"defaults.{s}" for s in cc.SIGNALS} | {"ldu.enabled"}
    assert all(len(messages) == 1 for messages in grouped.values())


# --- diff --------------------------------------------------------------------------------------


def test_diff_of_equal_content_and_of_a_reorder_is_empty():
    before = parse_content(valid())
    assert cc.diff(before, before) == []
    reordered = copy.deepcopy(before)
    reordered["pixels"].reverse()
    reordered["events"].reverse()
    assert cc.diff(before, reordered) == []


def test_diff_is_by_pixel_id_and_event_name():
    before = parse_content(valid())
    after = copy.deepcopy(before)
    after["pixels"] = [
        {"id": "555666777888", "category": "marketing"},  # category changed
        {"id": "999", "category": "none"},  # added; 111222333444 removed
    ]
    after["events"] = [{"name": "Purchase", "category": "analytics"}, *before["events"][:1]]
    changes = {change.path: change for change in cc.diff(before, after)}
    assert set(changes) == {
        "pixels.555666777888",
        "pixels.999",
        "pixels.111222333444",
        "events.Purchase",
    }
    assert (changes["pixels.555666777888"].before, changes["pixels.555666777888"].after) == (
        "analytics",
        "marketing",
    )
    assert (changes["pixels.999"].before, changes["pixels.999"].after) == (None, "none")
    assert (changes["pixels.111222333444"].before, changes["pixels.111222333444"].after) == (
        "marketing",
        None,
    )
    assert changes["pixels.999"].label == "Pixel 999"
    assert changes["events.Purchase"].after == "analytics"


def test_diff_of_scalar_fields_names_them_with_labels():
    before = parse_content(valid())
    after = parse_content(
        valid(mode="advanced", regions=["DE", "AT"], ldu={"enabled": True, "country": 1})
    )
    changes = {c.path: (c.label, c.before, c.after) for c in cc.diff(before, after)}
    assert changes == {
        "mode": ("Consent Mode", "basic", "advanced"),
        "regions": ("Regions", "DE", "DE, AT"),
        "ldu.enabled": ("Limited Data Use", False, True),
        "ldu.country": ("LDU country", 0, 1),
    }


def test_diff_against_nothing_lists_every_field_as_new():
    after = parse_content(valid())
    changes = cc.diff(None, after)
    assert all(change.before is None for change in changes)
    assert {c.path for c in changes} >= {"platform", "defaults.ad_storage", "pixels.111222333444"}


@pytest.mark.parametrize(
    "data",
    [
        {1: "x", "platform": "custom"},
        {**valid(), "defaults": {None: "denied", "ad_storage": "denied"}},
        {**valid(), "meta": {2: True}},
        {**valid(), "pixels": [{("id",): "1", "id": "1", "category": "none"}]},
    ],
)
def test_keys_that_are_not_text_are_refused_not_crashed_on(data):
    assert errors_of(data)


@PROPERTY
@given(
    st.dictionaries(
        st.one_of(st.integers(), st.none(), st.booleans(), _KEYS),
        st.one_of(_SCALARS, st.dictionaries(st.integers() | st.text(max_size=3), _SCALARS)),
        max_size=5,
    )
)
def test_parse_of_documents_with_any_keys_only_refuses(data):
    with pytest.raises(ContentError) as caught:
        parse_content(data)  # never valid: no regions; but never a TypeError either
    assert caught.value.by_path()
