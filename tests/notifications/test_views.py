"""The notifications pages: each user sees and changes only their own."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from koastops.notifications.models import Notification
from tests.factories import BrandFactory, NotificationFactory, UserFactory

HOSTILE = '<script>alert(1)</script> "quoted" </script>\nsecond line'

LIST = reverse("notifications:list")
BADGE = reverse("notifications:badge")
READ = reverse("notifications:read")


@pytest.fixture
def me(db):
    return UserFactory(email="me@example.com")


@pytest.fixture
def my_client(me) -> Client:
    client = Client()
    client.force_login(me)
    return client


@pytest.fixture
def theirs(foreign_brand):
    return NotificationFactory(
        user=UserFactory(email="them@example.com"),
        brand=foreign_brand,
        title="THEIR-MARKER review",
        body="THEIR-BODY",
    )


# --- the list ----------------------------------------------------------------------------------


def test_list_shows_my_notifications_newest_first_never_anyone_elses(my_client, me, brand, theirs):
    read = NotificationFactory(
        user=me, brand=brand, title="OLD-MARKER", url="/x/", read_at=timezone.now()
    )
    unread = NotificationFactory(user=me, brand=brand, title="NEW-MARKER", body="Look at it")
    response = my_client.get(LIST)
    assert response.status_code == 200
    text = response.text
    assert text.index("NEW-MARKER") < text.index("OLD-MARKER")
    assert "Own Brand" in text
    assert "Look at it" in text
    assert reverse("notifications:open", kwargs={"pk": unread.pk}) in text
    assert reverse("notifications:open", kwargs={"pk": read.pk}) in text
    assert '<strong><span class="visually-hidden">Unread: </span>NEW-MARKER</strong>' in text
    assert "Unread: </span>OLD-MARKER" not in text
    assert "Mark all as read" in text
    assert "THEIR-MARKER" not in text and "THEIR-BODY" not in text
    assert "Foreign Brand" not in text


def test_unread_filter(my_client, me, brand):
    NotificationFactory(user=me, title="READ-MARKER", read_at=timezone.now())
    NotificationFactory(user=me, title="UNREAD-MARKER")
    text = my_client.get(LIST, {"unread": "1"}).text
    assert "UNREAD-MARKER" in text
    assert "READ-MARKER" not in text.replace("UNREAD-MARKER", "")


def test_empty_states(my_client, me, theirs):
    assert "Nothing for you right now." in my_client.get(LIST).text
    NotificationFactory(user=me, read_at=timezone.now())
    text = my_client.get(LIST, {"unread": "1"}).text
    assert "No unread notifications." in text
    assert "Mark all as read" not in text


def test_hostile_text_is_escaped(my_client, me):
    NotificationFactory(user=me, brand=BrandFactory(name=HOSTILE), title=HOSTILE, body=HOSTILE)
    text = my_client.get(LIST).text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&quot;quoted&quot;" in text


def test_list_fragment_for_htmx_paging(my_client, me, settings):
    settings.KOASTOPS_PAGE_SIZE = 2
    for index in range(3):
        NotificationFactory(user=me, title=f"ROW-{index}")
    page_two = my_client.get(
        LIST, {"page": "2"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="notification-list"
    )
    assert page_two.status_code == 200
    assert page_two.text.lstrip().startswith('<div id="notification-list"')
    assert "ROW-0" in page_two.text and "ROW-2" not in page_two.text
    assert "Page 2 of 2" in page_two.text


def test_list_answers_in_constant_queries(my_client, me, brand):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert my_client.get(LIST).status_code == 200
        return len(context)

    NotificationFactory(user=me, brand=brand)
    one = queries()
    NotificationFactory.create_batch(29, user=me, brand=BrandFactory())
    assert queries() == one
    # the session, the user, the page with its total, the unread count, the brand switcher
    assert one <= 9


# --- the badge -----------------------------------------------------------------------------------


def test_badge_counts_my_unread_only(my_client, me, theirs):
    assert my_client.get(BADGE).text.strip() == '<span id="notification-badge"></span>'
    NotificationFactory.create_batch(3, user=me)
    NotificationFactory(user=me, read_at=timezone.now())
    response = my_client.get(BADGE, HTTP_HX_REQUEST="true")
    assert '>3<span class="visually-hidden"> unread notifications</span>' in response.text
    assert "no-cache" in response["Cache-Control"]


def test_badge_caps_the_number(my_client, me, monkeypatch):
    from koastops.notifications import views

    monkeypatch.setattr(views, "BADGE_MAX", 2)
    NotificationFactory.create_batch(3, user=me)
    assert ">2+<" in my_client.get(BADGE).text


def test_header_links_to_notifications_and_loads_the_badge_after_the_page(my_client):
    text = my_client.get(reverse("profile:detail")).text
    assert f'href="{LIST}"' in text
    assert f'hx-get="{BADGE}" hx-trigger="load"' in text


# --- marking read ---------------------------------------------------------------------------------


def test_mark_all_read(my_client, me, theirs):
    NotificationFactory.create_batch(2, user=me)
    response = my_client.post(READ)
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not Notification.objects.filter(user=me, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert "Marked 2 notifications as read." in my_client.get(LIST).text


def test_mark_some_read_ignores_other_users_ids_and_junk(my_client, me, theirs):
    mine, other_mine = NotificationFactory(user=me), NotificationFactory(user=me)
    response = my_client.post(
        READ, {"ids": [str(mine.pk), str(theirs.pk), "junk"], "unread": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{LIST}?unread=1"
    mine.refresh_from_db(), other_mine.refresh_from_db(), theirs.refresh_from_db()
    assert mine.read_at is not None
    assert other_mine.read_at is None
    assert theirs.read_at is None


def test_mark_read_of_only_others_ids_marks_nothing(my_client, me, theirs):
    mine = NotificationFactory(user=me)
    my_client.post(READ, {"ids": [str(theirs.pk)]})
    mine.refresh_from_db(), theirs.refresh_from_db()
    assert mine.read_at is None and theirs.read_at is None
    assert "Nothing to mark" in my_client.get(LIST).text


def test_read_is_post_only(my_client):
    assert my_client.get(READ).status_code == 405


# --- opening -----------------------------------------------------------------------------------


def test_open_marks_read_and_goes_to_the_page(my_client, me):
    note = NotificationFactory(user=me, url="/brands/own-brand/consent/de/review/")
    response = my_client.get(reverse("notifications:open", kwargs={"pk": note.pk}))
    assert response.status_code == 302
    assert response["Location"] == "/brands/own-brand/consent/de/review/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_open_another_users_notification_is_404_and_leaves_it_unread(my_client, theirs):
    response = my_client.get(reverse("notifications:open", kwargs={"pk": theirs.pk}))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize(
    "url", ["https://evil.example.com/", "//evil.example.com/", "", "javascript:x"]
)
def test_open_never_redirects_off_site(my_client, me, url):
    note = NotificationFactory(user=me, url=url)
    response = my_client.get(reverse("notifications:open", kwargs={"pk": note.pk}))
    assert response["Location"] == LIST


def test_signed_out_users_are_sent_to_sign_in(client, db):
    for url in (LIST, BADGE):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_a_brand_the_user_lost_the_role_on_is_no_longer_named(my_client, me, brand):
    """Notifications about a brand whose role was revoked disappear from the list, the
    badge's count and the open link (the title names the brand and its market)."""
    from koastops.accounts import policies

    NotificationFactory(user=me, brand=None, title="KEPT-MARKER")
    gone = NotificationFactory(user=me, brand=brand, title="Consent for Germany on Own Brand")
    assert "Own Brand" in my_client.get(LIST).text
    policies.revoke_role(me, brand)
    page = my_client.get(LIST).text
    assert "KEPT-MARKER" in page
    assert "Own Brand" not in page
    assert ">1<" in my_client.get(BADGE).text.replace(" ", "")
    opened = my_client.get(reverse("notifications:open", args=[gone.pk]))
    assert opened.status_code == 404
    gone.refresh_from_db()
    assert gone.read_at is None  # a 404 marks nothing
