"""The feed's words for an entry: the kind of change and its details, the sentence, the
verb filter's groups (no database needed for most)."""

from __future__ import annotations

import datetime as dt

import pytest

from koastops.activity import feed
from koastops.activity.models import ActivityEntry
from koastops.activity.verbs import GROUP_LABELS, VERB_INFO, VERBS, grouped_choices
from koastops.catalog.models import Brand

UTC = dt.UTC


def entry(verb="brand.updated", before=None, after=None, **fields) -> ActivityEntry:
    return ActivityEntry(
        verb=verb,
        before=before or {},
        after=after or {},
        target_type=fields.pop("target_type", "catalog.brand"),
        target_id=fields.pop("target_id", "1"),
        target_label=fields.pop("target_label", "Own Brand"),
        actor_label=fields.pop("actor_label", "ann@example.com"),
        created_at=fields.pop("created_at", dt.datetime(2026, 3, 10, 9, tzinfo=UTC)),
        **fields,
    )


def test_a_creation_lists_the_values_set():
    kind, details = feed.details_of(
        entry(after={"name": "X", "currency": "EUR", "capi_enabled": False, "notes": None})
    )
    assert kind == "created"
    assert [(d.field, d.after) for d in details] == [
        ("Name", "X"),
        ("Currency", "EUR"),
        ("Conversions API", "no"),
    ]
    assert all(d.before == "" for d in details)


def test_a_creation_with_nones_before_is_still_a_creation():
    kind, details = feed.details_of(entry(before={"role": None}, after={"role": "analyst"}))
    assert kind == "created"
    assert [(d.field, d.after) for d in details] == [("Role", "Analyst")]


def test_an_update_lists_only_changed_fields_old_to_new():
    kind, details = feed.details_of(
        entry(
            before={"name": "Main", "currency": "EUR", "access_token": None},
            after={"name": "Main DE", "currency": "EUR", "access_token": "set"},
        )
    )
    assert kind == "updated"
    assert [(d.field, d.before, d.after) for d in details] == [
        ("Name", "Main", "Main DE"),
        ("Access token", "—", "set"),
    ]


def test_a_removal_lists_the_values_removed():
    kind, details = feed.details_of(entry(before={"role": "ops_lead"}, after={"role": None}))
    assert kind == "removed"
    assert [(d.field, d.before, d.after) for d in details] == [("Role", "Ops lead", "")]


def test_nothing_recorded_is_no_details():
    assert feed.details_of(entry()) == ("none", [])
    assert feed.details_of(entry(before={"a": 1}, after={"a": 1})) == ("none", [])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "—"),
        (True, "yes"),
        ("", "(empty)"),
        (["b", "a"], "b, a"),
        ([], "none"),
        ({"k": 1}, '{"k": 1}'),
        ("x" * 100, "x" * 79 + "…"),
    ],
)
def test_values_in_words(value, expected):
    assert feed.display(value) == expected


def test_the_sentence_escapes_the_target_and_links_it():
    sentence = feed.sentence_of(
        entry(verb="pixel.archived", target_label="<b>Px</b>"), "/brands/own/pixels/1/"
    )
    assert sentence == (
        'archived the pixel <a href="/brands/own/pixels/1/"><strong>&lt;b&gt;Px&lt;/b&gt;'
        "</strong></a>"
    )


def test_an_unregistered_verb_still_reads_escaped():
    sentence = feed.sentence_of(entry(verb="<x>.gone", target_label="T"), None)
    assert sentence == "<code>&lt;x&gt;.gone</code> <strong>T</strong>"


def test_every_registered_verb_has_a_group_a_label_and_a_sentence_that_formats():
    for code, info in VERB_INFO.items():
        assert code.partition(".")[0] in GROUP_LABELS, code
        assert info.label and info.description == VERBS[code]
        sentence = feed.sentence_of(entry(verb=code, after={"role": "analyst"}), None)
        assert "{" not in sentence, code


def test_grouped_choices_keep_the_registry_order():
    assert grouped_choices({"pixel.archived", "brand.updated", "pixel.created", "gone.verb"}) == [
        ("Brand", [("brand.updated", "Brand edited")]),
        ("Pixels", [("pixel.created", "Pixel added"), ("pixel.archived", "Pixel archived")]),
        ("Other", [("gone.verb", "gone.verb")]),
    ]


def test_days_and_how_long_ago():
    now = dt.datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
    brand = Brand(pk=1, slug="own", name="Own")
    entries = [
        entry(created_at=dt.datetime(2026, 3, 12, 9, 59, 30, tzinfo=UTC)),
        entry(created_at=dt.datetime(2026, 3, 11, 8, 0, tzinfo=UTC)),
        entry(created_at=dt.datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
    ]
    days = feed.feed_days(entries, brand=brand, now=now)
    assert [day.heading for day in days] == ["Today", "Yesterday", "Sunday 1 March 2026"]
    assert [day.rows[0].ago for day in days] == ["just now", "1\xa0day ago", "1\xa0week ago"]


def test_every_icon_the_feed_uses_is_vendored():
    from koastops.core.templatetags.ui import icon_dir

    for name in {*feed.ICONS.values(), feed.DEFAULT_ICON}:
        assert (icon_dir() / f"{name}.svg").is_file(), name


def _row(kind_entry):
    brand = Brand(pk=1, slug="own", name="Own")
    now = dt.datetime(2026, 3, 12, tzinfo=UTC)
    [day] = feed.feed_days([kind_entry], brand=brand, now=now)
    return day.rows[0]


def test_the_closed_details_say_what_is_inside():
    assert _row(entry(after={"role": "analyst"})).preview == "Role: Analyst"
    assert _row(entry(after={"name": "X", "currency": "EUR"})).preview == "2 values set"
    assert _row(entry(before={"a": 1, "b": 2}, after={})).preview == "2 values removed"
    assert (
        _row(entry(before={"name": "A", "slug": "a"}, after={"name": "B", "slug": "b"})).preview
        == "Name: A → B +1 more"
    )
    assert _row(entry(before={"name": "x" * 80}, after={"name": "y"})).preview.endswith("…")
