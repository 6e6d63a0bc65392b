"""Roles end to end in a real browser: an ops lead invites a media buyer on one brand, the
new member chooses a password from the emailed link and sees only that brand, the lead
changes their role in the editor "Change role" loads on demand, and revoking the role
(from the row's menu, after the confirmation dialog) takes their access away on their
very next click. Demoting yourself asks first, in words that say what you lose."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from koastops.accounts import policies
from koastops.accounts.models import Role, User
from tests.browser.test_ui_kit import page_overflow
from tests.browser.test_walkthrough import sign_in
from tests.factories import DEFAULT_PASSWORD, AdAccountFactory, BrandFactory, UserFactory
from tests.system.test_worker import running_worker, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_MEMBER = "new.buyer@example.com"
NEW_PASSWORD = "a-long-new-password-42"


@pytest.fixture
def brands():
    own = BrandFactory(name="Nordwind Outdoor", slug="nordwind-outdoor")
    foreign = BrandFactory(name="Lumen Skincare", slug="lumen-skincare")
    AdAccountFactory(brand=own, name="Nordwind DE")
    lead = UserFactory(email="lead@example.com", full_name="Lena Lead")
    policies.grant_role(lead, own, Role.OPS_LEAD)
    return {"own": own, "foreign": foreign, "lead": lead}


def open_menu(page, email: str) -> None:
    page.locator(f'summary[aria-label="Actions for {email}"]').click()


@pytest.fixture
def celery_worker():
    """The invitation email is sent by a worker, as in production."""
    with running_worker() as worker:
        yield worker


@pytest.mark.worker
def test_invite_grant_sign_in_and_revoke(
    chromium_browser, live_server, brands, console_errors, celery_worker, settings
):
    settings.SITE_URL = live_server.url  # links in emails start with SITE_URL
    lead_context = chromium_browser.new_context(base_url=live_server.url)
    member_context = chromium_browser.new_context(base_url=live_server.url)
    for context in (lead_context, member_context):
        context.set_default_timeout(10_000)
    lead_page, member_page = lead_context.new_page(), member_context.new_page()

    def on_console(message) -> None:
        # The member is sent to pages that answer 404 on purpose; anything else counts.
        if message.type == "error" and "status of 404" not in message.text:
            console_errors.append(message.text)

    for page in (lead_page, member_page):
        page.on("console", on_console)
    mail.outbox.clear()

    # The ops lead invites a media buyer on their brand.
    sign_in(lead_page, email="lead@example.com", password=DEFAULT_PASSWORD)
    lead_page.goto("/brands/nordwind-outdoor/members/")
    # The form is loaded on demand; the email field takes the focus.
    lead_page.get_by_role("link", name="Invite a member").click()
    invite = lead_page.locator("#invite-form")
    expect(invite.get_by_label("Email address")).to_be_focused()
    invite.get_by_label("Email address").fill(NEW_MEMBER)
    invite.get_by_label("Full name").fill("Nia Newcomer")
    role = invite.get_by_label("Role", exact=True)
    expect(role).to_have_value("analyst")  # the least powerful role is preselected
    role.select_option(label="Media buyer")
    invite.get_by_role("button", name="Send invitation").click()
    table = lead_page.locator("#member-table")
    expect(table.get_by_text(NEW_MEMBER).first).to_be_visible()

    # The invitation email carries a set-password link.
    assert wait_for(lambda: len(mail.outbox) == 1), "the worker sent no invitation"
    link = re.search(r"https?://\S+/accounts/reset/\S+/", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    member_page.goto(link.group(0))
    member_page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    member_page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    member_page.get_by_role("button", name="Set new password").click()

    # They sign in (to the start page) and see exactly the one brand they were given.
    sign_in(member_page, email=NEW_MEMBER, password=NEW_PASSWORD)
    expect(member_page).to_have_url(re.compile(r"/$"))
    main = member_page.locator("main")
    expect(main.get_by_role("link", name="Nordwind Outdoor", exact=True).first).to_be_visible()
    expect(main.get_by_text("Lumen Skincare")).to_have_count(0)
    member_page.goto("/brands/lumen-skincare/")
    expect(member_page.get_by_text("Not found", exact=False).first).to_be_visible()
    member_page.goto("/brands/")

    # The ops lead changes the role: the table has no role select until "Change role".
    lead_page.reload()
    table = lead_page.locator("#member-table")
    expect(table.locator("select")).to_have_count(0)
    row = table.locator("tr", has_text=NEW_MEMBER)
    open_menu(lead_page, NEW_MEMBER)
    row.get_by_role("link", name=f"Change role of {NEW_MEMBER}").click()
    editor = row.locator(".role-editor")
    expect(editor.get_by_label("Role", exact=True)).to_be_focused()
    expect(lead_page.locator("details.row-menu[open]")).to_have_count(0)  # the menu closed
    editor.get_by_label("Role", exact=True).select_option(label="Legal reviewer")
    editor.get_by_role("button", name=f"Save the role of {NEW_MEMBER}").click()
    expect(row.get_by_text("Legal reviewer")).to_be_visible()
    expect(table.locator("select")).to_have_count(0)

    # The ops lead revokes the role from the row's menu (confirmed in the dialog); the
    # member's next click is refused.
    open_menu(lead_page, NEW_MEMBER)
    lead_page.get_by_role("button", name=f"Revoke role of {NEW_MEMBER}").click()
    confirm = lead_page.get_by_role("dialog")  # the app's "Revoke …?" confirmation
    expect(confirm).to_contain_text(f"Revoke the role of {NEW_MEMBER} on Nordwind Outdoor?")
    confirm.get_by_role("button", name="Revoke role").click()
    expect(lead_page.locator("#member-table").get_by_text(NEW_MEMBER)).to_have_count(0)

    main.get_by_role("link", name="Nordwind Outdoor", exact=True).click()
    expect(member_page.get_by_role("heading", name="Nordwind Outdoor", level=1)).to_have_count(0)
    assert member_page.evaluate("document.title").lower().startswith(("not found", "page not"))
    member_page.goto("/brands/")
    expect(member_page.locator("main").get_by_text("Nordwind Outdoor")).to_have_count(0)

    lead_context.close()
    member_context.close()
    assert console_errors == []


def test_demoting_yourself_asks_first_and_cancel_changes_nothing(
    browser_page, live_server, brands, console_errors
):
    page = browser_page
    second = UserFactory(email="second.lead@example.com", full_name="Sam Second")
    policies.grant_role(second, brands["own"], Role.OPS_LEAD)
    sign_in(page, email="lead@example.com", password=DEFAULT_PASSWORD)
    page.goto("/brands/nordwind-outdoor/members/")
    row = page.locator("#member-table tr", has_text="lead@example.com")
    open_menu(page, "lead@example.com")
    row.get_by_role("link", name="Change role of lead@example.com").click()
    row.get_by_label("Role", exact=True).select_option(label="Analyst")
    row.get_by_role("button", name="Save the role of lead@example.com").click()

    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("You will lose ops-lead rights on Nordwind Outdoor")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert policies.role_for(brands["lead"], brands["own"]) == Role.OPS_LEAD

    # Confirmed, the change goes through (and the page closes for a former ops lead).
    row.get_by_role("button", name="Save the role of lead@example.com").click()
    dialog.get_by_role("button", name="Change my role").click()
    expect(page).to_have_url(re.compile(r"/brands/$"))
    assert policies.role_for(brands["lead"], brands["own"]) == Role.ANALYST
    assert console_errors == []


def test_the_last_ops_lead_sees_the_rule_instead_of_actions(
    browser_page, live_server, brands, console_errors
):
    page = browser_page
    sign_in(page, email="lead@example.com", password=DEFAULT_PASSWORD)
    page.goto("/brands/nordwind-outdoor/members/")
    row = page.locator("#member-table tr", has_text="lead@example.com")
    expect(row).to_contain_text("You are the last ops lead of Nordwind Outdoor")
    expect(row.locator("details.row-menu")).to_have_count(0)
    assert console_errors == []


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_members_and_account_pages_never_scroll_sideways(
    browser_page, live_server, brands, console_errors, width, height
):
    page = browser_page
    page.set_viewport_size({"width": width, "height": height})
    for index, role in enumerate(list(Role) * 3):
        user = UserFactory(email=f"person.{index}@example.com", full_name=f"Person {index}")
        policies.grant_role(user, brands["own"], role)
    sign_in(page, email="lead@example.com", password=DEFAULT_PASSWORD)
    page.goto("/brands/nordwind-outdoor/members/")
    assert page_overflow(page) == 0
    # The editor opened on a row (the page without JavaScript's way to it, too).
    person = User.objects.get(email="person.1@example.com")
    page.goto(f"/brands/nordwind-outdoor/members/{person.pk}/role/edit/")
    expect(page.locator(".role-editor")).to_be_visible()
    assert page_overflow(page) == 0
    page.goto("/me/")
    form = page.locator("#token-form")
    form.get_by_label("Token name").fill("A rather long token name for the nightly export")
    form.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_be_focused()
    assert page_overflow(page) == 0
    assert console_errors == []
