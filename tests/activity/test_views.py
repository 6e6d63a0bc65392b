"""A brand's activity page: filters, pagination, access, queries, escaping."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.activity.services import GENESIS_HASH, activity_sign
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
UTC = dt.UTC


# --- helpers (also used by test_export) ------------------------------------------------------


def add_entry(
    brand,
    *,
    verb: str = "brand.updated",
    actor_label: str = "ann@example.com",
    actor_id: int | None = None,
    target_type: str = "catalog.brand",
    target_id: str = "1",
    target_label: str = "Own Brand",
    before: dict | None = None,
    after: dict | None = None,
    created_at: dt.datetime | None = None,
    ip: str | None = "203.0.113.5",
) -> ActivityEntry:
    """Append a chained entry with chosen content (``activity_record`` always stamps "now"
    and the request's actor; these tests need other days and odd labels)."""
    last = ActivityEntry.objects.order_by("-id").values_list("hash", flat=True).first()
    entry = ActivityEntry(
        created_at=created_at or timezone.now().replace(microsecond=0),
        actor_id=actor_id,
        actor_label=actor_label,
        verb=verb,
        brand_id=getattr(brand, "pk", brand),
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        before=before or {},
        after=after or {},
        ip=ip,
        request_id="",
        prev_hash=last or GENESIS_HASH,
    )
    activity_sign(entry)
    entry.save(force_insert=True)
    return entry


def client_with_role(brand, role: Role) -> Client:
    user = UserFactory()
    policies.grant_role(user, brand, role)
    client = Client()
    client.force_login(user)
    return client


def list_url(brand) -> str:
    return reverse("activity:list", args=[brand.slug])


def export_url(brand) -> str:
    return reverse("activity:export", args=[brand.slug])


def shown(response) -> list[int]:
    return [row.entry.pk for row in response.context["rows"]]


# --- the page: a feed ---------------------------------------------------------------------


def entry_html(response, entry) -> str:
    """The markup of one entry's <li>."""
    html = response.content.decode()
    start = html.index(f'id="activity-entry-{entry.pk}"')
    return html[start : html.index("</li>", start)]


def test_lists_the_brands_entries_newest_first_one_line_each(admin_client, brand, foreign_brand):
    old = add_entry(
        brand,
        verb="brand.created",
        target_id=str(brand.pk),  # the link goes to this brand (its pk is not 1 on every run)
        created_at=dt.datetime(2026, 1, 5, 9, tzinfo=UTC),
    )
    new = add_entry(
        brand,
        verb="ad_account.updated",
        target_type="catalog.adaccount",
        target_label="Main DE (act_1)",
        before={"name": "Main", "currency": "EUR"},
        after={"name": "Main DE", "currency": "EUR"},
    )
    add_entry(foreign_brand, target_label="Foreign only")

    response = admin_client.get(list_url(brand))

    assert response.status_code == 200
    assert shown(response) == [new.pk, old.pk]
    html = response.content.decode()
    assert "Foreign only" not in html
    line = entry_html(response, new)
    ad_accounts = reverse("catalog:ad_account_list", args=[brand.slug])
    assert (
        f'edited the ad account <a href="{ad_accounts}?q=act_1&amp;status=all">'
        "<strong>Main DE (act_1)</strong></a>"
    ) in line
    assert '<span class="feed-who">ann@example.com</span>' in line
    assert '<span class="feed-type muted">Ad account</span>' in line
    # An update lists only what changed, old → new.
    assert (
        '<summary><span class="visually-hidden">Details: </span>Name: Main → Main DE</summary>'
        in line
    )
    assert (
        '<tr><th scope="row">Name</th><td class="feed-old">Main</td>'
        '<td class="feed-new">Main DE</td></tr>'
    ) in line
    assert "Currency" not in line
    assert "<code>203.0.113.5</code>" in line
    assert (
        '<time class="feed-when" datetime="2026-01-05T09:00:00+00:00" '
        'title="2026-01-05 09:00:00 UTC">09:00</time>'
    ) in html
    brand_url = reverse("catalog:brand_detail", args=[brand.slug])
    assert f'created the brand <a href="{brand_url}"><strong>Own Brand</strong></a>' in html


def test_entries_are_grouped_by_utc_day(admin_client, brand):
    add_entry(brand, created_at=dt.datetime(2026, 1, 5, 23, 59, tzinfo=UTC))
    add_entry(brand, created_at=dt.datetime(2026, 1, 6, 0, 0, tzinfo=UTC))
    add_entry(brand, created_at=dt.datetime(2026, 1, 6, 8, 0, tzinfo=UTC))
    add_entry(brand)  # now

    response = admin_client.get(list_url(brand))

    days = response.context["days"]
    assert [day.heading for day in days] == [
        "Today",
        "Tuesday 6 January 2026",
        "Monday 5 January 2026",
    ]
    assert [len(day.rows) for day in days] == [1, 2, 1]
    html = response.content.decode()
    assert html.count('<h2 class="feed-day-heading"') == 3
    assert '<time datetime="2026-01-06">Tuesday 6 January 2026</time>' in html
    assert "just now" in html


def test_a_creation_shows_the_values_set_not_dash_arrows(admin_client, brand):
    created = add_entry(
        brand,
        verb="ad_account.created",
        target_type="catalog.adaccount",
        target_label="Main (act_1)",
        before={},
        after={"name": "Main", "currency": "EUR", "timezone": "Europe/Berlin", "notes": None},
    )

    response = admin_client.get(list_url(brand))

    line = entry_html(response, created)
    assert "added the ad account" in line
    assert "3 values set</summary>" in line
    assert '<tr><th scope="row">Name</th><td class="feed-new">Main</td></tr>' in line
    assert '<tr><th scope="row">Currency</th><td class="feed-new">EUR</td></tr>' in line
    assert '<tr><th scope="row">Time zone</th><td class="feed-new">Europe/Berlin</td></tr>' in line
    assert "—" not in line
    assert "→" not in line
    assert "Notes" not in line  # a value left empty was not set


def test_a_role_grant_reads_as_a_sentence_with_the_role_set(admin_client, brand):
    member = UserFactory(email="a@b.example")
    granted = add_entry(
        brand,
        verb="member.role_granted",
        target_type="accounts.user",
        target_id=str(member.pk),
        target_label="a@b.example",
        before={"role": None},
        after={"role": "analyst"},
    )
    changed = add_entry(
        brand,
        verb="member.role_changed",
        target_type="accounts.user",
        target_id=str(member.pk),
        target_label="a@b.example",
        before={"role": "analyst"},
        after={"role": "ops_lead"},
    )
    revoked = add_entry(
        brand,
        verb="member.role_revoked",
        target_type="accounts.user",
        target_id=str(member.pk),
        target_label="a@b.example",
        before={"role": "ops_lead"},
        after={"role": None},
    )

    response = admin_client.get(list_url(brand))

    members = reverse("members:list", args=[brand.slug]) + "?q=a%40b.example"
    target = f'<a href="{members}"><strong>a@b.example</strong></a>'
    assert f"gave {target} the role <strong>Analyst</strong>" in entry_html(response, granted)
    assert "Role: Analyst</summary>" in entry_html(response, granted)
    assert f"changed the role of {target} to <strong>Ops lead</strong>" in entry_html(
        response, changed
    )
    assert "Role: Analyst → Ops lead</summary>" in entry_html(response, changed)
    # A removal shows the value removed.
    line = entry_html(response, revoked)
    assert f"revoked the role <strong>Ops lead</strong> of {target}" in line
    assert '<tr><th scope="row">Role</th><td class="feed-old">Ops lead</td></tr>' in line
    assert "—" not in line


def test_pixel_entries_link_to_the_pixel(admin_client, brand):
    entry = add_entry(
        brand, verb="pixel.archived", target_type="catalog.pixel", target_id="42", target_label="Px"
    )

    response = admin_client.get(list_url(brand))

    url = reverse("catalog:pixel_detail", args=[brand.slug, 42])
    assert f'archived the pixel <a href="{url}"><strong>Px</strong></a>' in entry_html(
        response, entry
    )


def test_system_entries_name_the_system_and_have_no_empty_details(admin_client, brand):
    entry = add_entry(brand, actor_label="system", verb="brand.updated", ip=None)

    line = entry_html(admin_client.get(list_url(brand)), entry)

    assert '<span class="feed-who">system</span>' in line
    assert "<details" not in line  # nothing recorded beyond the line


def test_empty_state(admin_client, brand):
    response = admin_client.get(list_url(brand))

    assert response.status_code == 200
    assert "Nothing has happened on Own Brand yet." in response.content.decode()


def test_filter_by_actor_id_or_label_and_search(admin_client, brand):
    ann_user, joann_user = UserFactory(full_name="Ann Example"), UserFactory(full_name="")
    ann = add_entry(brand, actor_label="ann@example.com", actor_id=ann_user.pk)
    joann = add_entry(brand, actor_label="joann@example.com", actor_id=joann_user.pk)
    bob = add_entry(brand, actor_label="bob@example.com", target_label="Ann's pixel")

    by_id = admin_client.get(list_url(brand), {"actor": str(ann_user.pk)})
    by_label = admin_client.get(list_url(brand), {"actor": "ANN@example.com"})
    searched = admin_client.get(list_url(brand), {"q": "ANN"})

    assert shown(by_id) == [ann.pk]
    assert shown(by_label) == [ann.pk]  # exact, any case: not joann
    assert shown(searched) == [bob.pk, joann.pk, ann.pk]  # who or on what
    html = by_id.content.decode()
    # Picked from the actors of the visible rows, by id (no user: by label).
    assert f'<option value="{ann_user.pk}" selected>Ann Example (ann@example.com)</option>' in html
    assert f'<option value="{joann_user.pk}">joann@example.com</option>' in html
    assert '<option value="bob@example.com">bob@example.com</option>' in html
    # The line names the person (their email in the title); without a name, the email.
    assert '<span class="feed-who" title="ann@example.com">Ann Example</span>' in html
    assert '<span class="feed-who">joann@example.com</span>' in searched.content.decode()


def test_filter_by_verb(admin_client, brand):
    created = add_entry(brand, verb="pixel.created")
    add_entry(brand, verb="pixel.archived")

    response = admin_client.get(list_url(brand), {"verb": "pixel.created"})

    assert shown(response) == [created.pk]


def test_verb_filter_offers_only_the_verbs_that_occur_grouped(admin_client, brand):
    add_entry(brand, verb="brand.updated")
    add_entry(brand, verb="pixel.archived", target_type="catalog.pixel")
    add_entry(brand, verb="pixel.created", target_type="catalog.pixel")
    add_entry(brand, verb="member.role_granted", target_type="accounts.user")

    response = admin_client.get(list_url(brand))

    choices = response.context["form"].fields["verb"].choices
    assert choices == [
        ("", "Any action"),
        ("Brand", [("brand.updated", "Brand edited")]),
        ("Pixels", [("pixel.created", "Pixel added"), ("pixel.archived", "Pixel archived")]),
        ("Members", [("member.role_granted", "Role granted")]),
    ]
    html = response.content.decode()
    assert '<optgroup label="Pixels">' in html
    assert "ad_account.created" not in html


def test_verb_filter_hides_verbs_of_rows_the_user_may_not_see(brand):
    add_entry(brand, verb="brand.updated")
    add_entry(brand, verb="member.role_granted", target_type="accounts.user")
    client = client_with_role(brand, Role.ANALYST)  # no members.view

    choices = client.get(list_url(brand)).context["form"].fields["verb"].choices

    assert choices == [("", "Any action"), ("Brand", [("brand.updated", "Brand edited")])]


def test_a_registered_verb_that_does_not_occur_is_no_error(admin_client, brand):
    add_entry(brand, verb="brand.updated")

    response = admin_client.get(list_url(brand), {"verb": "pixel.created"})

    assert response.status_code == 200
    assert shown(response) == []
    assert (
        '<option value="pixel.created" selected>Pixel added</option>' in response.content.decode()
    )


def test_filter_by_object_type(admin_client, brand):
    pixel = add_entry(brand, target_type="catalog.pixel")
    add_entry(brand, target_type="catalog.brand")

    response = admin_client.get(list_url(brand), {"target_type": "catalog.pixel"})

    assert shown(response) == [pixel.pk]
    assert '<option value="catalog.pixel" selected>Pixel</option>' in response.content.decode()


def test_filter_by_date_range_is_inclusive_in_utc(admin_client, brand):
    def at(day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
        return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)

    add_entry(brand, created_at=at(9, 23, 59))
    first = add_entry(brand, created_at=at(10, 0, 0))
    last = add_entry(brand, created_at=at(12, 23, 59))
    add_entry(brand, created_at=at(13, 0, 0))

    response = admin_client.get(
        list_url(brand), {"date_from": "2026-03-10", "date_to": "2026-03-12"}
    )
    only_from = admin_client.get(list_url(brand), {"date_from": "2026-03-13"})

    assert shown(response) == [last.pk, first.pk]
    assert len(shown(only_from)) == 1


def test_the_old_filter_names_still_work(admin_client, brand):
    """Links made before the names were shared (type, from, to) give the same rows."""
    add_entry(brand, target_type="catalog.pixel", created_at=dt.datetime(2026, 3, 9, tzinfo=UTC))
    wanted = add_entry(
        brand, target_type="catalog.pixel", created_at=dt.datetime(2026, 3, 10, tzinfo=UTC)
    )
    add_entry(brand, target_type="catalog.brand", created_at=dt.datetime(2026, 3, 10, tzinfo=UTC))

    old = admin_client.get(
        list_url(brand), {"type": "catalog.pixel", "from": "2026-03-10", "to": "2026-03-10"}
    )
    new = admin_client.get(
        list_url(brand),
        {"target_type": "catalog.pixel", "date_from": "2026-03-10", "date_to": "2026-03-10"},
    )

    assert shown(old) == shown(new) == [wanted.pk]
    # The links the page makes use the shared names.
    assert "target_type=catalog.pixel" in old.context["export_query"]
    assert "type=" not in old.context["export_query"].replace("target_type=", "")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"verb": "member.teleported"}, "verb"),
        ({"target_type": "catalog.nothing"}, "target_type"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2026-3-1"}, "date_from"),  # YYYY-MM-DD only, as on the API
        ({"date_from": "03/01/2026"}, "date_from"),
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"date_from": "2026-03-12", "date_to": "2026-03-10"}, "date_to"),
        ({"from": "2026-03-12", "to": "2026-03-10"}, "date_to"),
        ({"actor": "0"}, "actor"),
        ({"actor": "a\x00b"}, "actor"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_invalid_filters_are_422_with_the_error_and_no_rows(admin_client, brand, params, field):
    add_entry(brand)

    response = admin_client.get(list_url(brand), params)

    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert response.context["rows"] is None
    assert "These filters cannot be applied" in response.content.decode()


def test_filtered_empty_state_offers_to_clear(admin_client, brand):
    add_entry(brand, verb="brand.created")

    response = admin_client.get(list_url(brand), {"verb": "pixel.created"})

    assert "Nothing on Own Brand matches these filters." in response.content.decode()


def test_paginates_by_the_page_size_setting_keeping_the_filters(admin_client, brand, settings):
    settings.KOASTOPS_PAGE_SIZE = 7
    entries = [add_entry(brand, verb="brand.updated") for _ in range(10)]
    add_entry(brand, verb="brand.created")

    first = admin_client.get(list_url(brand), {"verb": "brand.updated"})
    second = admin_client.get(list_url(brand), {"verb": "brand.updated", "page": 2})

    assert len(shown(first)) == 7
    assert shown(second) == [entry.pk for entry in reversed(entries[:3])]
    assert "verb=brand.updated&amp;page=2" in first.content.decode()


def test_paging_links_use_the_shared_names(admin_client, brand, settings):
    settings.KOASTOPS_PAGE_SIZE = 1
    add_entry(brand, target_type="catalog.pixel")
    add_entry(brand, target_type="catalog.pixel")

    response = admin_client.get(list_url(brand), {"type": "catalog.pixel"})

    assert "target_type=catalog.pixel&amp;page=2" in response.content.decode()


def test_htmx_filtering_renders_only_the_feed(admin_client, brand, htmx_headers):
    add_entry(brand, verb="brand.created")

    response = admin_client.get(list_url(brand), {"verb": "brand.created"}, **htmx_headers)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="activity-table"')
    assert "<html" not in html
    assert "created the brand" in html
    # The export links follow the filters.
    assert "export/?verb=brand.created&amp;format=csv" in html


def test_the_filter_form_works_without_javascript(admin_client, brand):
    """A plain GET form to the page itself, each control named as the filter it sets."""
    html = admin_client.get(list_url(brand)).content.decode()

    assert f'<form method="get" action="{list_url(brand)}"' in html
    for name in ("q", "actor", "verb", "target_type", "date_from", "date_to"):
        assert f'name="{name}"' in html
    assert '<button type="submit"' in html


def test_query_count_does_not_grow_with_rows(admin_client, brand, django_assert_max_num_queries):
    add_entry(brand, actor_id=UserFactory().pk)
    url = list_url(brand)
    admin_client.get(url)  # warm-up

    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(url).status_code == 200
    one = len(queries)
    verbs = ["brand.updated", "pixel.archived", "ad_account.created", "member.role_granted"]
    types = ["catalog.brand", "catalog.pixel", "catalog.adaccount", "accounts.user"]
    for index in range(49):
        add_entry(
            brand,
            actor_label=f"user{index}@example.com",
            actor_id=UserFactory().pk if index < 10 else 1000 + index,
            verb=verbs[index % 4],
            target_type=types[index % 4],
            target_id=str(index + 1),
            target_label=f"Thing {index} (ext{index})",
            before={"name": f"old {index}"} if index % 2 else {},
            after={"name": f"new {index}"},
            created_at=timezone.now() - dt.timedelta(days=index % 5),
        )
    with django_assert_max_num_queries(one):
        response = admin_client.get(url)
    assert len(response.context["rows"]) == 25


def test_user_text_is_escaped(admin_client, brand):
    add_entry(
        brand,
        actor_label="<b>actor</b>",
        target_label="<script>alert(1)</script>",
        before={"name": "<img src=x>"},
        after={"name": "ok"},
    )
    add_entry(
        brand,
        verb="pixel.created",
        target_type="catalog.pixel",
        target_id="7",
        target_label='"><svg onload=alert(2)>',
        after={"name": "<i>created</i>", "<u>field</u>": "x"},
    )

    html = admin_client.get(list_url(brand)).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x>" not in html
    assert "&lt;img src=x&gt;" in html
    assert "<b>actor</b>" not in html
    assert "<svg onload" not in html
    assert "&lt;svg onload=alert(2)&gt;" in html
    assert "<i>created</i>" not in html
    assert "&lt;i&gt;created&lt;/i&gt;" in html
    assert "<u>field</u>" not in html


# --- who may see ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_on_the_brand_may_view(brand, role):
    add_entry(brand)
    client = client_with_role(brand, role)

    response = client.get(list_url(brand))

    assert response.status_code == 200
    # Export links only for those who may export.
    can_export = role != Role.MEDIA_BUYER
    assert ("Export these entries as CSV" in response.content.decode()) is can_export


def test_outsider_and_foreign_ops_lead_get_404(outsider_client, brand, foreign_brand):
    foreign_lead = client_with_role(foreign_brand, Role.OPS_LEAD)

    for client in (outsider_client, foreign_lead):
        assert client.get(list_url(brand)).status_code == 404
        assert client.get(export_url(brand)).status_code == 404


def test_anonymous_is_sent_to_login(client, brand):
    for url in (list_url(brand), export_url(brand)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN_URL)


def test_wrong_method_is_405(admin_client, brand):
    assert admin_client.post(list_url(brand)).status_code == 405
    assert admin_client.post(export_url(brand)).status_code == 405


def test_details_name_the_kind_of_change_and_escape_every_value(admin_client, brand):
    created = add_entry(
        brand,
        verb="pixel.created",
        target_type="catalog.pixel",
        target_id="7",
        target_label="Px",
        after={"name": "<b>Px</b>", "capi_enabled": True, "external_id": ""},
    )
    removed = add_entry(
        brand, verb="brand.updated", before={"description": "Old & gone"}, after={}, ip=None
    )
    bare = add_entry(brand, verb="brand.updated", before={}, after={}, ip=None)

    response = admin_client.get(list_url(brand))

    line = entry_html(response, created)
    assert '<caption class="visually-hidden">Values set</caption>' in line
    assert "<thead>" not in line  # only an update has Before / After columns
    assert (
        '<tr><th scope="row">Name</th><td class="feed-new">&lt;b&gt;Px&lt;/b&gt;</td></tr>'
        '<tr><th scope="row">Conversions API</th><td class="feed-new">yes</td></tr>'
    ) in line
    assert "External id" not in line  # an empty value is not "set"
    assert "<b>Px</b>" not in line
    assert '<p class="feed-origin muted">From <code>203.0.113.5</code></p>' in line
    line = entry_html(response, removed)
    assert '<caption class="visually-hidden">Values removed</caption>' in line
    assert '<td class="feed-old">Old &amp; gone</td></tr>' in line
    assert "feed-origin" not in line
    assert "<details" not in entry_html(response, bare)  # nothing recorded: no details
