"""Roles end to end in a real browser: an ops lead invites a media buyer on one brand, the
new member chooses a password from the emailed link and sees only that brand, and
revoking the role takes their access away on their very next click."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from koastops.accounts import policies
from koastops.accounts.models import Role
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
    invite = lead_page.locator("#invite-form")
    invite.get_by_label("Email address").fill(NEW_MEMBER)
    invite.get_by_label("Full name").fill("Nia Newcomer")
    invite.get_by_label("Role", exact=True).select_option(label="Media buyer")
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

    # They sign in and see exactly the one brand they were given.
    sign_in(member_page, email=NEW_MEMBER, password=NEW_PASSWORD)
    expect(member_page).to_have_url(re.compile(r"/brands/$"))
    main = member_page.locator("main")
    expect(main.get_by_role("link", name="Nordwind Outdoor", exact=True)).to_be_visible()
    expect(main.get_by_text("Lumen Skincare")).to_have_count(0)
    member_page.goto("/brands/lumen-skincare/")
    expect(member_page.get_by_text("Not found", exact=False).first).to_be_visible()
    member_page.goto("/brands/")

    # The ops lead revokes the role; the member's next click is refused.
    lead_page.reload()
    lead_page.get_by_role("button", name=f"Revoke the role of {NEW_MEMBER}").click()
    confirm = lead_page.get_by_role("dialog")  # the app's "Revoke …?" confirmation
    expect(confirm).to_contain_text(NEW_MEMBER)
    confirm.get_by_role("button", name="Revoke").click()
    expect(lead_page.locator("#member-table").get_by_text(NEW_MEMBER)).to_have_count(0)

    main.get_by_role("link", name="Nordwind Outdoor", exact=True).click()
    expect(member_page.get_by_role("heading", name="Nordwind Outdoor", level=1)).to_have_count(0)
    assert member_page.evaluate("document.title").lower().startswith(("not found", "page not"))
    member_page.goto("/brands/")
    expect(member_page.locator("main").get_by_text("Nordwind Outdoor")).to_have_count(0)

    lead_context.close()
    member_context.close()
    assert console_errors == []
