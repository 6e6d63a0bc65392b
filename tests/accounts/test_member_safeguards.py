"""The members page's safeguards and its on-demand role editor: the table shows each role
as text and fetches the editor (a form with selects) only when "Change role" is used; the
invite form starts at the least powerful role; demoting or removing yourself asks first
(a dialog with JavaScript, a server-side step without); the last-ops-lead rule is
explained where it applies."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Membership, Role
from tests.factories import AdAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

LOSE_RIGHTS = "You will lose ops-lead rights on Own Brand"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def lead(brand):
    user = UserFactory(email="lead@example.com", full_name="Olga Lead")
    policies.grant_role(user, brand, Role.OPS_LEAD)
    return user


@pytest.fixture
def second_lead(brand):
    user = UserFactory(email="second@example.com", full_name="Sam Second")
    policies.grant_role(user, brand, Role.OPS_LEAD)
    return user


@pytest.fixture
def member(brand):
    user = UserFactory(email="member@example.com", full_name="Mia Member")
    policies.grant_role(user, brand, Role.ANALYST)
    return user


def list_url(brand) -> str:
    return reverse("members:list", args=[brand.slug])


def edit_url(brand, user) -> str:
    return reverse("members:role_edit", args=[brand.slug, user.pk])


def role_url(brand, user) -> str:
    return reverse("members:role", args=[brand.slug, user.pk])


def revoke_url(brand, user) -> str:
    return reverse("members:revoke", args=[brand.slug, user.pk])


def table_html(client, brand, htmx_headers) -> str:
    response = client.get(list_url(brand), **htmx_headers)
    assert response.status_code == 200
    return response.content.decode()


def row_html(html: str, user) -> str:
    match = re.search(rf'<tr id="member-{user.pk}">(.*?)</tr>', html, re.DOTALL)
    assert match, f"no row for {user.email}"
    return match.group(1)


# --- the role editor, on demand -------------------------------------------------------------


def test_the_table_shows_roles_as_text_and_no_role_select(
    brand, lead, member, htmx_headers, settings
):
    AdAccountFactory(brand=brand)
    html = table_html(client_for(lead), brand, htmx_headers)

    assert "<select" not in html
    row = row_html(html, member)
    assert "Analyst" in row
    # "Change role" is a plain link to the editor (works without JavaScript), fetched
    # into the role cell with htmx.
    assert f'href="{edit_url(brand, member)}"' in row
    assert f'hx-get="{edit_url(brand, member)}"' in row
    assert f'hx-target="#member-{member.pk}-role"' in row
    # The row's URLs are built from the list URL: they must be the real ones.
    assert f'action="{revoke_url(brand, member)}"' in row


def test_editor_fragment_for_htmx(brand, lead, member, htmx_headers):
    AdAccountFactory(brand=brand, name="Main DE")
    response = client_for(lead).get(edit_url(brand, member), **htmx_headers)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<div class="role-editor" id="role-editor-{member.pk}">')
    assert "<html" not in html
    assert f'action="{role_url(brand, member)}"' in html
    assert re.search(r'<option value="analyst" selected>Analyst</option>', html)
    assert f'id="role-{member.pk}-role"' in html and "autofocus" in html
    assert "Main DE" in html  # the narrowing choices
    assert "data-confirm" not in html  # someone else's role: no self-confirmation
    assert "HX-Request" in response["Vary"]


def test_editor_without_htmx_is_the_page_with_that_rows_editor_open(brand, lead, member):
    response = client_for(lead).get(edit_url(brand, member))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert f'id="role-editor-{member.pk}"' in row_html(html, member)
    assert "<select" not in row_html(html, lead)
    assert html.count('name="role"') == 1  # this editor (the invite form loads on demand)


def test_editor_of_a_member_beyond_the_page_is_shown_on_top(brand, lead, settings):
    settings.KOASTOPS_PAGE_SIZE = 1
    far = UserFactory(email="zz-far@example.com")
    policies.grant_role(far, brand, Role.ANALYST)
    response = client_for(lead).get(edit_url(brand, far))
    assert response.context["rows"][0].user == far
    assert f'id="role-editor-{far.pk}"' in response.content.decode()


def test_editor_keeps_the_narrowing_of_a_media_buyer(brand, lead, htmx_headers):
    chosen, other = AdAccountFactory(brand=brand), AdAccountFactory(brand=brand)
    buyer = UserFactory(email="buyer@example.com")
    policies.grant_role(buyer, brand, Role.MEDIA_BUYER)
    policies.set_ad_account_narrowing(buyer, brand, [chosen])
    html = client_for(lead).get(edit_url(brand, buyer), **htmx_headers).content.decode()
    assert re.search(rf'<option value="{chosen.pk}" selected>', html)
    assert not re.search(rf'<option value="{other.pk}" selected>', html)


def test_editor_of_a_deactivated_member_offers_no_form(brand, lead, htmx_headers):
    gone = UserFactory(email="gone@example.com", is_active=False)
    policies.grant_role(gone, brand, Role.ANALYST)
    html = client_for(lead).get(edit_url(brand, gone), **htmx_headers).content.decode()
    assert "Deactivated users cannot be given a role." in html
    assert "<form" not in html


@pytest.mark.parametrize("role", [Role.ANALYST, Role.MEDIA_BUYER, Role.LEGAL_REVIEWER])
def test_editor_is_403_for_roles_that_cannot_manage_members(brand, member, role, htmx_headers):
    user = UserFactory()
    policies.grant_role(user, brand, role)
    for headers in ({}, htmx_headers):
        assert client_for(user).get(edit_url(brand, member), **headers).status_code == 403


def test_editor_is_404_for_a_foreign_brand_or_a_non_member(
    brand, foreign_brand, lead, member, plain_user
):
    foreign_lead = UserFactory()
    policies.grant_role(foreign_lead, foreign_brand, Role.OPS_LEAD)
    stranger = UserFactory()
    policies.grant_role(stranger, foreign_brand, Role.ANALYST)
    assert client_for(foreign_lead).get(edit_url(brand, member)).status_code == 404
    assert client_for(plain_user).get(edit_url(brand, member)).status_code == 404
    # A member of another brand is no member here.
    assert client_for(lead).get(edit_url(brand, stranger)).status_code == 404
    assert client_for(lead).get(edit_url(brand, plain_user)).status_code == 404


def test_admin_without_a_role_opens_the_editor(admin_client, brand, member, htmx_headers):
    assert admin_client.get(edit_url(brand, member), **htmx_headers).status_code == 200


def test_editor_post_is_405_and_anonymous_is_sent_to_sign_in(client, brand, lead, member):
    assert client_for(lead).post(edit_url(brand, member)).status_code == 405
    response = client.get(edit_url(brand, member))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def _queries(client, url, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **headers).status_code == 200
    return len(queries)


def test_editor_and_page_queries_do_not_grow_with_members(
    brand, lead, member, htmx_headers, django_assert_max_num_queries
):
    accounts = [AdAccountFactory(brand=brand) for _ in range(3)]
    client = client_for(lead)
    page_one = _queries(client, list_url(brand))
    editor_one = _queries(client, edit_url(brand, member), **htmx_headers)
    full_editor_one = _queries(client, edit_url(brand, member))
    for index in range(30):
        user = UserFactory()
        role = list(Role)[index % len(Role)]
        policies.grant_role(user, brand, role)
        if role == Role.MEDIA_BUYER:
            policies.set_ad_account_narrowing(user, brand, accounts[: index % 3 + 1])
    with django_assert_max_num_queries(page_one):
        client.get(list_url(brand))
    with django_assert_max_num_queries(editor_one):
        client.get(edit_url(brand, member), **htmx_headers)
    with django_assert_max_num_queries(full_editor_one):
        client.get(edit_url(brand, member))


def test_an_invalid_save_opens_the_editor_on_its_row_with_a_focusable_summary(
    brand, lead, member, htmx_headers
):
    response = client_for(lead).post(role_url(brand, member), {"role": "overlord"}, **htmx_headers)
    assert response.status_code == 422
    html = response.content.decode()
    row = row_html(html, member)
    assert "data-error-summary" in row and 'tabindex="-1"' in row
    assert f'href="#role-{member.pk}-role"' in row  # the summary links to the field
    assert f'id="role-{member.pk}-role_error"' in row
    assert "<select" not in row_html(html, lead)


# --- the invite form -------------------------------------------------------------------------


def test_invite_form_preselects_the_least_powerful_role(brand, lead):
    # The form is fetched on demand by "Invite a member" (its URL, without JavaScript).
    html = client_for(lead).get(reverse("members:invite_form", args=[brand.slug])).content.decode()
    invite = html.split('id="invite-form"', 1)[1]
    select = re.search(r'<select name="role"[^>]*>(.*?)</select>', invite, re.DOTALL)
    assert select
    assert re.findall(r'<option value="(\w+)" selected>', select.group(1)) == ["analyst"]
    assert list(Role)[-1] == Role.ANALYST  # roles are listed from most to least powerful


def test_invite_without_a_role_is_refused_rather_than_defaulted(brand, lead):
    response = client_for(lead).post(
        reverse("members:invite", args=[brand.slug]), {"email": "new@example.com"}
    )
    assert response.status_code == 422
    assert "role" in response.context["invite_form"].errors


# --- changing or removing yourself -----------------------------------------------------------


def test_own_row_asks_before_a_self_removal_and_the_editor_before_a_self_demotion(
    brand, lead, second_lead, htmx_headers
):
    client = client_for(lead)
    row = row_html(table_html(client, brand, htmx_headers), lead)
    assert "(you)" in row
    revoke = re.search(r'<form method="post" action="[^"]*/revoke/"[^>]*>', row).group(0)
    assert LOSE_RIGHTS in revoke and "data-confirm=" in revoke
    assert 'hx-vals=\'{"confirm_self": "1"}\'' in revoke
    editor = client.get(edit_url(brand, lead), **htmx_headers).content.decode()
    form = re.search(r"<form [^>]*>", editor).group(0)
    assert "data-confirm=" in form and "lose ops-lead rights on Own Brand" in form
    assert 'hx-vals=\'{"confirm_self": "1"}\'' in form
    # Other people's rows are not asked about in those words.
    assert LOSE_RIGHTS not in row_html(table_html(client, brand, htmx_headers), second_lead)


@pytest.mark.parametrize("htmx", [False, True])
def test_self_demotion_without_confirmation_answers_a_confirmation_step(
    brand, lead, second_lead, activity, htmx, htmx_headers
):
    headers = htmx_headers if htmx else {}
    activity.mark()
    response = client_for(lead).post(role_url(brand, lead), {"role": "analyst"}, **headers)

    assert response.status_code == 200
    assert policies.role_for(lead, brand) == Role.OPS_LEAD
    activity.none()
    html = response.content.decode()
    if htmx:
        assert html.lstrip().startswith('<div id="member-table">')
    step = html.split(f'id="member-{lead.pk}-confirm"', 1)[1].split("</form>", 1)[0]
    assert LOSE_RIGHTS in step and "Analyst" in step
    assert '<input type="hidden" name="role" value="analyst">' in step
    assert '<input type="hidden" name="confirm_self" value="1">' in step


def test_confirmed_self_demotion_acts(brand, lead, second_lead, activity):
    activity.mark()
    response = client_for(lead).post(
        role_url(brand, lead), {"role": "analyst", "confirm_self": "1"}
    )
    # No longer an ops lead: the members page is gone for them.
    assert response.status_code == 302
    assert policies.role_for(lead, brand) == Role.ANALYST
    activity.one("member.role_changed", actor=lead, brand=brand)


def test_saving_your_own_unchanged_role_needs_no_confirmation(brand, lead, second_lead):
    response = client_for(lead).post(role_url(brand, lead), {"role": "ops_lead"})
    assert response.status_code == 302
    assert response["Location"] == list_url(brand)


@pytest.mark.parametrize("htmx", [False, True])
def test_self_removal_without_confirmation_answers_a_confirmation_step(
    brand, lead, second_lead, activity, htmx, htmx_headers
):
    headers = htmx_headers if htmx else {}
    activity.mark()
    response = client_for(lead).post(revoke_url(brand, lead), **headers)

    assert response.status_code == 200
    assert policies.role_for(lead, brand) == Role.OPS_LEAD
    activity.none()
    step = response.content.decode().split(f'id="member-{lead.pk}-confirm"', 1)[1]
    step = step.split("</form>", 1)[0]
    assert "Remove yourself from Own Brand?" in step
    assert "You will lose ops-lead rights on Own Brand and every access to it" in step
    assert f'action="{revoke_url(brand, lead)}"' in step
    assert '<input type="hidden" name="confirm_self" value="1">' in step

    done = client_for(lead).post(revoke_url(brand, lead), {"confirm_self": "1"})
    assert done.status_code == 302
    assert policies.role_for(lead, brand) is None


def test_removing_someone_else_needs_no_server_side_step(brand, lead, member):
    response = client_for(lead).post(revoke_url(brand, member))
    assert response.status_code == 302
    assert policies.role_for(member, brand) is None


def test_an_admin_changing_their_own_role_is_told_they_keep_every_right(admin_user, brand):
    policies.grant_role(admin_user, brand, Role.OPS_LEAD)
    response = client_for(admin_user).post(role_url(brand, admin_user), {"role": "analyst"})
    assert response.status_code == 200
    assert "As an admin you keep every right on Own Brand" in response.content.decode()
    assert policies.role_for(admin_user, brand) == Role.OPS_LEAD


def test_the_last_ops_lead_demoting_themselves_is_refused_not_asked(brand, lead, activity):
    activity.mark()
    response = client_for(lead).post(role_url(brand, lead), {"role": "analyst"})
    assert response.status_code == 422
    assert "is the last ops lead of Own Brand" in response.content.decode()
    assert f'id="member-{lead.pk}-confirm"' not in response.content.decode()
    activity.none()


# --- the last ops lead -----------------------------------------------------------------------


def test_last_ops_lead_row_explains_the_rule_instead_of_offering_actions(
    brand, lead, member, htmx_headers
):
    html = table_html(client_for(lead), brand, htmx_headers)
    own = row_html(html, lead)
    assert f'id="member-{lead.pk}-last-lead"' in own
    assert "You are the last ops lead of Own Brand: only an admin can demote or remove you." in own
    assert "row-menu" not in own
    other = row_html(html, member)
    assert "last-lead" not in other and "row-menu" in other


def test_no_last_lead_note_when_the_brand_has_two_ops_leads(brand, lead, second_lead, htmx_headers):
    html = table_html(client_for(lead), brand, htmx_headers)
    assert "last-lead" not in html
    assert "row-menu" in row_html(html, lead) and "row-menu" in row_html(html, second_lead)


def test_a_deactivated_second_lead_leaves_the_active_one_last(brand, lead, htmx_headers):
    gone = UserFactory(email="gone-lead@example.com")
    policies.grant_role(gone, brand, Role.OPS_LEAD)
    gone.is_active = False
    gone.save()
    html = table_html(client_for(lead), brand, htmx_headers)
    assert f'id="member-{lead.pk}-last-lead"' in row_html(html, lead)
    assert "last-lead" not in row_html(html, gone)


def test_admin_sees_the_note_next_to_the_actions_and_in_the_editor(
    admin_client, brand, lead, htmx_headers
):
    row = row_html(table_html(admin_client, brand, htmx_headers), lead)
    assert "leaves the brand without one, which only an admin may do" in row
    assert "row-menu" in row
    editor = admin_client.get(edit_url(brand, lead), **htmx_headers).content.decode()
    assert "The last ops lead of Own Brand" in editor


def test_last_lead_note_in_the_editor_for_a_lead(brand, lead, htmx_headers):
    editor = client_for(lead).get(edit_url(brand, lead), **htmx_headers).content.decode()
    assert "The last ops lead of Own Brand: only an admin can give you another role." in editor
    Membership.objects.get(user=lead, brand=brand)  # nothing changed by looking
