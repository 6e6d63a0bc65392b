"""The members page of a brand: list, invite, change role / narrow, revoke, deactivate."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role, User
from koastops.activity.models import ActivityEntry
from koastops.catalog.models import CatalogStatus
from tests.factories import AdAccountFactory, BrandFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"


# --- fixtures and helpers ------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ops_lead(brand):
    user = UserFactory(email="lead@example.com", full_name="Olga Lead")
    policies.grant_role(user, brand, Role.OPS_LEAD)
    return user


@pytest.fixture
def lead_client(ops_lead) -> Client:
    return client_for(ops_lead)


@pytest.fixture
def member(brand):
    user = UserFactory(email="member@example.com", full_name="Mia Member")
    policies.grant_role(user, brand, Role.ANALYST)
    return user


@pytest.fixture
def buyer(brand):
    user = UserFactory(email="buyer@example.com", full_name="Ben Buyer")
    policies.grant_role(user, brand, Role.MEDIA_BUYER)
    return user


def list_url(brand) -> str:
    return reverse("members:list", args=[brand.slug])


def invite_url(brand) -> str:
    return reverse("members:invite", args=[brand.slug])


def role_url(brand, user) -> str:
    return reverse("members:role", args=[brand.slug, user.pk])


def role_edit_url(brand, user) -> str:
    return reverse("members:role_edit", args=[brand.slug, user.pk])


def revoke_url(brand, user) -> str:
    return reverse("members:revoke", args=[brand.slug, user.pk])


def deactivate_url(brand, user) -> str:
    return reverse("members:deactivate", args=[brand.slug, user.pk])


def activity_count() -> int:
    return ActivityEntry.objects.count()


def verbs_since(count: int) -> list[str]:
    return list(ActivityEntry.objects.order_by("id").values_list("verb", flat=True)[count:])


def toast(response) -> str:
    return json.loads(response["HX-Trigger"])["toast"]["message"]


def all_post_urls(brand, user) -> list[str]:
    return [
        invite_url(brand),
        role_url(brand, user),
        revoke_url(brand, user),
        deactivate_url(brand, user),
    ]


# --- the page ------------------------------------------------------------------------------


def test_ops_lead_sees_members_with_roles_narrowing_and_status(
    lead_client, brand, ops_lead, member, buyer
):
    narrow_to = AdAccountFactory(brand=brand, name="Narrow DE")
    AdAccountFactory(brand=brand, name="Other FR")
    policies.set_ad_account_narrowing(buyer, brand, [narrow_to])
    unnarrowed = UserFactory(email="free@example.com")
    policies.grant_role(unnarrowed, brand, Role.MEDIA_BUYER)
    gone = UserFactory(email="gone@example.com", is_active=False)
    policies.grant_role(gone, brand, Role.LEGAL_REVIEWER)

    response = lead_client.get(list_url(brand))

    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Olga Lead", "member@example.com", "Analyst", "Media buyer", "Legal reviewer"):
        assert text in html
    rows = {row.user.email: row for row in response.context["rows"]}
    assert [account.name for account in rows["buyer@example.com"].narrowed_to] == ["Narrow DE"]
    assert rows["free@example.com"].narrowed_to == []
    assert "All ad accounts" in html
    assert "Deactivated" in html
    assert "data-confirm=" in html
    # The own row has no deactivate button (nobody deactivates themselves); others do.
    assert deactivate_url(brand, ops_lead) not in html
    assert deactivate_url(brand, member) in html
    # Deactivated members cannot be given a role, so they have no role form.
    assert role_url(brand, gone) not in html


def test_narrowing_names_are_shown_whatever_they_contain(lead_client, brand, buyer):
    # The page reads the narrowing joined into one string: names with its separators, with
    # markup or non-ASCII letters come back whole, by name, and escaped.
    names = ["Alpha \x1f two", "Beta \x1e <b>bold</b>", "Ça va"]
    accounts = [AdAccountFactory(brand=brand, name=name) for name in names]
    AdAccountFactory(brand=brand, name="Not narrowed")
    policies.set_ad_account_narrowing(buyer, brand, accounts)

    response = lead_client.get(list_url(brand))

    rows = {row.user.email: row for row in response.context["rows"]}
    narrowed = rows["buyer@example.com"].narrowed_to
    assert [account.name for account in narrowed] == names
    assert {account.pk for account in narrowed} == {account.pk for account in accounts}
    html = response.content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html


def test_search_by_name_or_email(lead_client, brand, member, buyer):
    by_name = lead_client.get(list_url(brand), {"q": "mia"})
    by_email = lead_client.get(list_url(brand), {"q": "BUYER@"})

    assert [row.user for row in by_name.context["rows"]] == [member]
    assert [row.user for row in by_email.context["rows"]] == [buyer]
    nothing = lead_client.get(list_url(brand), {"q": "nobody-like-this"})
    assert "matches “nobody-like-this”" in nothing.content.decode()


def test_pagination_keeps_the_search(lead_client, brand, settings):
    settings.KOASTOPS_PAGE_SIZE = 2
    for index in range(5):
        policies.grant_role(UserFactory(email=f"page{index}@example.com"), brand, Role.ANALYST)

    response = lead_client.get(list_url(brand), {"q": "page", "page": 2})

    assert [row.user.email for row in response.context["rows"]] == [
        "page2@example.com",
        "page3@example.com",
    ]
    assert "q=page&amp;page=3" in response.content.decode()
    # Change forms post back with the list's query, so the table that comes back matches.
    page2 = User.objects.get(email="page2@example.com")
    html = response.content.decode()
    assert f"{role_edit_url(brand, page2)}?q=page&amp;page=2" in html
    assert f"{revoke_url(brand, page2)}?q=page&amp;page=2" in html
    # The editor that link opens posts back with the same query.
    editor = lead_client.get(role_edit_url(brand, page2), {"q": "page", "page": 2})
    assert f'action="{role_url(brand, page2)}?q=page&amp;page=2"' in editor.content.decode()


def test_empty_state_invites_the_first_member(admin_client, brand):
    response = admin_client.get(list_url(brand))

    assert response.status_code == 200
    assert "Nobody has a role on Own Brand yet. Invite the first member below." in (
        response.content.decode()
    )


def test_htmx_get_renders_only_the_member_table(lead_client, brand, member, htmx_headers):
    response = lead_client.get(list_url(brand), {"q": "mia"}, **htmx_headers)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="member-table">')
    assert "<html" not in html
    assert "member@example.com" in html


def test_list_queries_do_not_grow_with_members(lead_client, brand, ops_lead):
    accounts = [AdAccountFactory(brand=brand) for _ in range(3)]

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert lead_client.get(list_url(brand)).status_code == 200
        return len(queries)

    one = count()  # the ops lead alone
    for index in range(29):
        user = UserFactory()
        role = Role.MEDIA_BUYER if index % 2 else Role.ANALYST
        policies.grant_role(user, brand, role)
        if role == Role.MEDIA_BUYER:
            policies.set_ad_account_narrowing(user, brand, accounts[: index % 3 + 1])
    assert count() == one


def test_the_list_reads_its_rows_in_one_statement(lead_client, brand, ops_lead, member, buyer):
    # Roles, narrowing, the last-ops-lead count, who may be deactivated and the page total
    # come with the page of users: no COUNT, no separate read of roles, narrowing or the
    # brand's ad accounts (those are read only when a form is open).
    narrow_to = AdAccountFactory(brand=brand, name="Narrow DE")
    policies.set_ad_account_narrowing(buyer, brand, [narrow_to])
    lead_client.get(list_url(brand))  # warm-up
    with CaptureQueriesContext(connection) as queries:
        response = lead_client.get(list_url(brand))
    assert response.status_code == 200
    member_reads = [
        query["sql"]
        for query in queries.captured_queries
        if "objectpermission" in query["sql"] or "catalog_adaccount" in query["sql"]
    ]
    # The one page statement (the brand and switcher lookups read their own grants).
    page_statements = [sql for sql in member_reads if '"accounts_user"."email" AS' in sql]
    assert len(page_statements) == 1
    assert not any("COUNT(*) AS" in query["sql"] for query in queries.captured_queries)
    assert not any(
        query["sql"].lstrip().startswith('SELECT "catalog_adaccount"')
        for query in queries.captured_queries
    )
    assert "Narrow DE" in response.content.decode()


def test_who_may_deactivate_whom(brand, foreign_brand, ops_lead, admin_user, member):
    elsewhere = UserFactory()
    policies.grant_role(elsewhere, brand, Role.ANALYST)
    policies.grant_role(elsewhere, foreign_brand, Role.ANALYST)
    superuser = UserFactory(is_superuser=True)
    policies.grant_role(superuser, brand, Role.ANALYST)
    users = [ops_lead, admin_user, member, elsewhere, superuser]

    # The ops lead: only someone whose every role is on a brand they lead; never an
    # admin, never themselves.
    assert policies.deactivatable_user_ids(ops_lead, users) == {member.pk}
    # An admin: anyone but themselves.
    assert policies.deactivatable_user_ids(admin_user, users) == {
        user.pk for user in users if user != admin_user
    }
    # Nobody else.
    assert policies.deactivatable_user_ids(member, users) == set()
    assert policies.can_deactivate(ops_lead, member)
    assert not policies.can_deactivate(ops_lead, elsewhere)


# --- invite ----------------------------------------------------------------------------------


def invite_form_url(brand) -> str:
    return reverse("members:invite_form", args=[brand.slug])


def test_invite_form_is_loaded_on_demand(lead_client, brand, member, htmx_headers):
    # The list carries only the button (the form's fields cost more than the rows) ...
    page = lead_client.get(list_url(brand), {"q": "mia"}).content.decode()
    assert '<div id="invite-form"></div>' in page
    assert 'name="email"' not in page
    link = f"{invite_form_url(brand)}?q=mia"
    assert f'hx-get="{link}" hx-target="#invite-form" hx-swap="outerHTML"' in page
    assert f'href="{link}#invite-form"' in page

    # ... htmx fetches the form's fragment (keeping the list's query for after the invite) ...
    fragment = lead_client.get(invite_form_url(brand), {"q": "mia"}, **htmx_headers)
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert html.lstrip().startswith('<section id="invite-form"')
    assert f'hx-post="{invite_url(brand)}?q=mia"' in html
    assert re.search(r'<input type="email" name="email"[^>]* autofocus', html)
    assert "<html" not in html

    # ... and without JavaScript the link opens the page with the form.
    full = lead_client.get(invite_form_url(brand), {"q": "mia"}).content.decode()
    assert "<html" in full
    assert '<section id="invite-form"' in full
    assert "member@example.com" in full  # the (searched) table is there too


def test_invite_form_is_not_for_those_who_cannot_invite(brand, member, htmx_headers):
    assert client_for(member).get(invite_form_url(brand)).status_code == 403
    assert client_for(member).get(invite_form_url(brand), **htmx_headers).status_code == 403


def test_ops_lead_invites_a_new_member_who_gets_a_set_password_link(
    lead_client, brand, mailoutbox, django_capture_on_commit_callbacks, enqueued
):
    before = activity_count()
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(
            invite_url(brand),
            {"email": "New.Person@Example.com", "full_name": "Nia New", "role": "analyst"},
        )

    assert response.status_code == 302
    assert response["Location"] == list_url(brand)
    user = User.objects.get(email="new.person@example.com")
    assert user.full_name == "Nia New"
    assert not user.has_usable_password()
    assert policies.role_for(user, brand) == Role.ANALYST
    assert verbs_since(before) == ["member.invited", "member.role_granted"]
    assert enqueued.names == ["koastops.accounts.send_invitation"]
    enqueued.run()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.person@example.com"]
    assert "http://testserver/accounts/reset/" in mailoutbox[0].body
    page = lead_client.get(response["Location"])
    assert "new.person@example.com is now Analyst on Own Brand." in page.content.decode()


def test_inviting_a_media_buyer_narrows_them_in_the_same_request(lead_client, brand):
    chosen = AdAccountFactory(brand=brand)
    AdAccountFactory(brand=brand)
    before = activity_count()

    response = lead_client.post(
        invite_url(brand),
        {"email": "buyer2@example.com", "role": "media_buyer", "ad_accounts": [chosen.pk]},
    )

    assert response.status_code == 302
    user = User.objects.get(email="buyer2@example.com")
    assert list(policies.ad_accounts_for(user, brand)) == [chosen]
    assert verbs_since(before) == [
        "member.invited",
        "member.role_granted",
        "member.ad_accounts_narrowed",
    ]


def test_htmx_invite_answers_the_table_a_fresh_form_and_a_toast(lead_client, brand, htmx_headers):
    response = lead_client.post(
        invite_url(brand), {"email": "x@example.com", "role": "legal_reviewer"}, **htmx_headers
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="member-table">')
    assert "x@example.com" in html
    assert re.search(r'<section id="invite-form"[^>]* hx-swap-oob="true">', html)
    assert 'value="x@example.com"' not in html  # the new form is empty
    assert toast(response) == "x@example.com is now Legal reviewer on Own Brand."


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email", "role": "analyst"}, "email", "valid email"),
        ({"email": "ok@example.com", "role": "overlord"}, "role", "Select a valid choice"),
        ({"email": "", "role": "analyst"}, "email", "This field is required"),
    ],
)
def test_bad_invite_is_422_with_the_error_by_the_field_and_writes_nothing(
    lead_client, brand, mailoutbox, data, field, message
):
    users, before = User.objects.count(), activity_count()

    response = lead_client.post(invite_url(brand), data)

    assert response.status_code == 422
    assert any(message in error for error in response.context["invite_form"].errors[field])
    match = re.search(rf'id="id_{field}_field">(.*?)</div>', response.content.decode(), re.DOTALL)
    assert match and message in match.group(1)
    assert User.objects.count() == users
    assert activity_count() == before
    assert mailoutbox == []


def test_invite_with_a_foreign_ad_account_is_refused_by_the_field(
    lead_client, brand, foreign_brand
):
    foreign = AdAccountFactory(brand=foreign_brand)
    users, before = User.objects.count(), activity_count()

    response = lead_client.post(
        invite_url(brand),
        {"email": "b@example.com", "role": "media_buyer", "ad_accounts": [foreign.pk]},
    )

    assert response.status_code == 422
    assert "ad_accounts" in response.context["invite_form"].errors
    assert User.objects.count() == users
    assert activity_count() == before


def test_invite_of_a_deactivated_user_shows_the_service_error_by_the_email(lead_client, brand):
    UserFactory(email="old@example.com", is_active=False)
    before = activity_count()

    response = lead_client.post(invite_url(brand), {"email": "old@example.com", "role": "analyst"})

    assert response.status_code == 422
    assert "deactivated" in response.context["invite_form"].errors["email"][0]
    assert activity_count() == before


def test_htmx_bad_invite_retargets_the_form(lead_client, brand, htmx_headers):
    response = lead_client.post(
        invite_url(brand), {"email": "nope", "role": "analyst"}, **htmx_headers
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#invite-form"
    assert response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="invite-form"')
    assert 'value="nope"' in html
    assert 'aria-invalid="true"' in html


# --- change role and narrowing -----------------------------------------------------------------


def test_ops_lead_changes_a_role(lead_client, brand, member):
    before = activity_count()

    response = lead_client.post(role_url(brand, member), {"role": "legal_reviewer"})

    assert response.status_code == 302
    assert policies.role_for(member, brand) == Role.LEGAL_REVIEWER
    assert verbs_since(before) == ["member.role_changed"]


def test_saving_the_same_role_writes_no_activity(lead_client, brand, member):
    before = activity_count()

    assert lead_client.post(role_url(brand, member), {"role": "analyst"}).status_code == 302
    assert activity_count() == before


def test_ops_lead_narrows_a_media_buyer_over_htmx(lead_client, brand, buyer, htmx_headers):
    chosen = AdAccountFactory(brand=brand, name="Chosen")
    AdAccountFactory(brand=brand, name="Not chosen")
    before = activity_count()

    response = lead_client.post(
        role_url(brand, buyer), {"role": "media_buyer", "ad_accounts": [chosen.pk]}, **htmx_headers
    )

    assert response.status_code == 200
    assert list(policies.ad_accounts_for(buyer, brand)) == [chosen]
    assert verbs_since(before) == ["member.ad_accounts_narrowed"]
    assert response.content.decode().lstrip().startswith('<div id="member-table">')
    assert toast(response) == "Ben Buyer is now Media buyer (1 ad account)."

    # Choosing none widens the media buyer to all of the brand's ad accounts again.
    lead_client.post(role_url(brand, buyer), {"role": "media_buyer"}, **htmx_headers)
    assert policies.ad_accounts_for(buyer, brand).count() == 2
    assert verbs_since(before) == ["member.ad_accounts_narrowed"] * 2


@pytest.mark.parametrize("htmx", [False, True])
def test_narrowing_to_a_foreign_ad_account_is_422_by_the_field(
    lead_client, brand, foreign_brand, buyer, htmx, htmx_headers
):
    AdAccountFactory(brand=brand)
    foreign = AdAccountFactory(brand=foreign_brand)
    before = activity_count()
    headers = htmx_headers if htmx else {}

    response = lead_client.post(
        role_url(brand, buyer), {"role": "media_buyer", "ad_accounts": [foreign.pk]}, **headers
    )

    assert response.status_code == 422
    row = next(row for row in response.context["rows"] if row.user == buyer)
    assert "ad_accounts" in row.errors
    assert f'id="role-{buyer.pk}-ad_accounts_error"' in response.content.decode()
    assert activity_count() == before
    assert policies.narrowed_ad_account_ids(brand, [buyer]) == {}
    if htmx:
        assert response.content.decode().lstrip().startswith('<div id="member-table">')


def test_narrowing_to_an_archived_ad_account_is_refused(lead_client, brand, buyer):
    archived = AdAccountFactory(brand=brand, status=CatalogStatus.ARCHIVED)

    response = lead_client.post(
        role_url(brand, buyer), {"role": "media_buyer", "ad_accounts": [archived.pk]}
    )

    assert response.status_code == 422


def test_unknown_role_is_422_and_keeps_the_role(lead_client, brand, member):
    before = activity_count()

    response = lead_client.post(role_url(brand, member), {"role": "overlord"})

    assert response.status_code == 422
    row = next(row for row in response.context["rows"] if row.user == member)
    assert "role" in row.errors
    assert policies.role_for(member, brand) == Role.ANALYST
    assert activity_count() == before


def test_ad_accounts_for_a_role_other_than_media_buyer_are_refused(lead_client, brand, member):
    account = AdAccountFactory(brand=brand)

    response = lead_client.post(
        role_url(brand, member), {"role": "analyst", "ad_accounts": [account.pk]}
    )

    assert response.status_code == 422
    row = next(row for row in response.context["rows"] if row.user == member)
    assert "Only a media buyer" in row.errors["ad_accounts"][0]


def test_role_change_for_a_non_member_is_404(lead_client, brand, plain_user):
    assert lead_client.post(role_url(brand, plain_user), {"role": "analyst"}).status_code == 404
    assert policies.role_for(plain_user, brand) is None


# --- revoke and deactivate -------------------------------------------------------------------


def test_revocation_takes_effect_on_the_members_next_request(lead_client, brand, member):
    member_client = client_for(member)
    assert member_client.get(reverse("catalog:brand_detail", args=[brand.slug])).status_code == 200
    before = activity_count()

    response = lead_client.post(revoke_url(brand, member))

    assert response.status_code == 302
    assert verbs_since(before) == ["member.role_revoked"]
    assert member_client.get(reverse("catalog:brand_detail", args=[brand.slug])).status_code == 404
    assert member_client.get(reverse("activity:list", args=[brand.slug])).status_code == 404


def test_htmx_revoke_answers_the_table_without_the_member(lead_client, brand, member, htmx_headers):
    response = lead_client.post(revoke_url(brand, member), **htmx_headers)

    assert response.status_code == 200
    assert "member@example.com" not in response.content.decode()
    assert toast(response) == "Mia Member no longer has a role on Own Brand."


def test_ops_lead_revoking_themselves_is_sent_to_the_brand_list(lead_client, brand, ops_lead):
    policies.grant_role(UserFactory(email="second-lead@example.com"), brand, Role.OPS_LEAD)
    response = lead_client.post(revoke_url(brand, ops_lead), {"confirm_self": "1"})

    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:brand_list")


def test_ops_lead_deactivates_a_member(lead_client, brand, member):
    member_client = client_for(member)
    before = activity_count()

    response = lead_client.post(deactivate_url(brand, member))

    assert response.status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    assert verbs_since(before) == ["member.deactivated"]
    # Signed out at once: the next request goes to the login page.
    response = member_client.get(list_url(brand))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_htmx_deactivate_answers_the_table_with_a_toast(lead_client, brand, member, htmx_headers):
    response = lead_client.post(deactivate_url(brand, member), **htmx_headers)

    assert response.status_code == 200
    assert "Deactivated" in response.content.decode()
    assert toast(response) == "Mia Member is deactivated and signed out everywhere."


def test_the_page_offers_deactivation_exactly_where_the_policy_allows(
    brand, foreign_brand, ops_lead, admin_user, member
):
    # The page reads "may deactivate" in its row statement; it must agree with the policy.
    led_too = BrandFactory(name="Led Too", slug="led-too")
    policies.grant_role(ops_lead, led_too, Role.OPS_LEAD)
    on_a_led_brand = UserFactory(email="led-too@example.com")  # every role on a brand led
    policies.grant_role(on_a_led_brand, brand, Role.ANALYST)
    policies.grant_role(on_a_led_brand, led_too, Role.MEDIA_BUYER)
    elsewhere = UserFactory(email="elsewhere@example.com")  # also on a brand not led
    policies.grant_role(elsewhere, brand, Role.ANALYST)
    policies.grant_role(elsewhere, foreign_brand, Role.ANALYST)
    superuser = UserFactory(email="super@example.com", is_superuser=True)
    policies.grant_role(superuser, brand, Role.ANALYST)
    gone = UserFactory(email="gone@example.com", is_active=False)
    policies.grant_role(gone, brand, Role.ANALYST)
    users = [ops_lead, member, on_a_led_brand, elsewhere, superuser, gone]

    for actor in (ops_lead, admin_user):
        html = client_for(actor).get(list_url(brand)).content.decode()
        offered = {user.pk for user in users if deactivate_url(brand, user) in html}
        allowed = policies.deactivatable_user_ids(actor, users) - {gone.pk}
        assert offered == allowed
    assert {member.pk, on_a_led_brand.pk} == (
        policies.deactivatable_user_ids(ops_lead, users) - {gone.pk}
    )


def test_ops_lead_cannot_deactivate_a_member_with_roles_elsewhere(
    lead_client, brand, foreign_brand, member
):
    policies.grant_role(member, foreign_brand, Role.ANALYST)
    before = activity_count()

    page = lead_client.get(list_url(brand))
    assert deactivate_url(brand, member) not in page.content.decode()
    assert lead_client.post(deactivate_url(brand, member)).status_code == 403
    member.refresh_from_db()
    assert member.is_active
    assert activity_count() == before


# --- who may do what ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ANALYST, Role.MEDIA_BUYER, Role.LEGAL_REVIEWER])
def test_other_roles_get_403_on_the_page_and_every_change(brand, member, role):
    user = UserFactory()
    policies.grant_role(user, brand, role)
    client = client_for(user)
    before, users = activity_count(), User.objects.count()

    assert client.get(list_url(brand)).status_code == 403
    for url in all_post_urls(brand, member):
        assert client.post(url, {"email": "z@example.com", "role": "ops_lead"}).status_code == 403
    assert activity_count() == before
    assert User.objects.count() == users
    assert policies.role_for(member, brand) == Role.ANALYST


def test_outsider_gets_404_everywhere(outsider_client, brand, member):
    assert outsider_client.get(list_url(brand)).status_code == 404
    for url in all_post_urls(brand, member):
        assert (
            outsider_client.post(url, {"email": "z@example.com", "role": "analyst"}).status_code
            == 404
        )


def test_ops_lead_of_another_brand_gets_404(brand, foreign_brand, member):
    foreign_lead = UserFactory()
    policies.grant_role(foreign_lead, foreign_brand, Role.OPS_LEAD)
    client = client_for(foreign_lead)

    assert client.get(list_url(brand)).status_code == 404
    for url in all_post_urls(brand, member):
        assert client.post(url, {"email": "z@example.com", "role": "analyst"}).status_code == 404
    assert policies.role_for(member, brand) == Role.ANALYST


def test_anonymous_is_sent_to_login(client, brand, member):
    response = client.get(list_url(brand))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    for url in all_post_urls(brand, member):
        response = client.post(url, {"role": "analyst"})
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN_URL)


def test_wrong_methods_are_405(lead_client, brand, member):
    assert lead_client.post(list_url(brand)).status_code == 405
    for url in all_post_urls(brand, member):
        assert lead_client.get(url).status_code == 405


def test_admin_without_a_role_manages_members(admin_client, brand, member):
    assert admin_client.get(list_url(brand)).status_code == 200
    assert admin_client.post(role_url(brand, member), {"role": "ops_lead"}).status_code == 302
    assert policies.role_for(member, brand) == Role.OPS_LEAD
