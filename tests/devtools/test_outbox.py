"""The development mail backend and outbox: the console shows links whole (Django's console
backend prints the quoted-printable wire form, which cuts them with ``=`` line breaks), and
the emails a worker sends are listed, with clickable links, at /dev/outbox/ (DEBUG only,
admins only)."""

from __future__ import annotations

import importlib
import io
import re

import pytest
from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend
from django.urls import NoReverseMatch, clear_url_caches, reverse

import koastops.urls
from koastops.devtools.mail import KEEP_MESSAGES, OutboxEmailBackend, outbox_list

LINK = (
    "http://127.0.0.1:8000/accounts/reset/MTIz/"
    "cz1abc-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/"
)
OUTBOX_BACKEND = "koastops.devtools.mail.OutboxEmailBackend"


def message(subject: str = "Reset your koastops password", link: str = LINK) -> EmailMessage:
    return EmailMessage(
        subject, f"Hallo Jörg,\n\nChoose a password:\n{link}\n", "koastops@localhost", ["j@x.de"]
    )


@pytest.fixture
def outbox_dir(settings, tmp_path):
    settings.EMAIL_OUTBOX_DIR = tmp_path / "outbox"
    return settings.EMAIL_OUTBOX_DIR


@pytest.fixture
def debug_urls(settings):
    """The URLconf as it is with DEBUG on (it decides at import time)."""
    settings.DEBUG = True
    importlib.reload(koastops.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(koastops.urls)
    clear_url_caches()


def test_djangos_console_backend_cuts_long_links_which_ours_does_not(outbox_dir):
    django_console, ours = io.StringIO(), io.StringIO()
    DjangoConsoleBackend(stream=django_console).send_messages([message()])
    OutboxEmailBackend(stream=ours).send_messages([message()])

    assert LINK not in django_console.getvalue()  # the problem: a quoted-printable "=" break
    assert LINK + "\n" in ours.getvalue()
    assert "Hallo Jörg" in ours.getvalue()
    assert "Subject: Reset your koastops password" in ours.getvalue()


def test_the_backend_writes_each_email_where_another_process_can_read_it(outbox_dir):
    OutboxEmailBackend(stream=io.StringIO()).send_messages([message("First"), message("Second")])

    assert len(list(outbox_dir.glob("*.eml"))) == 2
    assert not list(outbox_dir.glob(".*"))  # no half-written files left
    first, second = outbox_list()[::-1]
    assert (first.subject, second.subject) == ("First", "Second")
    assert second.to == "j@x.de"
    assert LINK in second.body
    assert (LINK, True) in second.body_parts


def test_the_outbox_keeps_only_the_newest_emails(outbox_dir):
    backend = OutboxEmailBackend(stream=io.StringIO())
    for number in range(KEEP_MESSAGES + 5):
        backend.send_messages([message(f"Email {number}")])
    assert len(list(outbox_dir.glob("*.eml"))) == KEEP_MESSAGES
    assert outbox_list(limit=1)[0].subject == f"Email {KEEP_MESSAGES + 4}"


def test_sending_through_the_configured_backend_lands_in_the_outbox(settings, outbox_dir):
    settings.MAILERS = {"default": {"BACKEND": OUTBOX_BACKEND}}
    assert message().send() == 1
    [email] = outbox_list()
    assert LINK in email.body


def test_no_outbox_page_without_debug(admin_client):
    with pytest.raises(NoReverseMatch):
        reverse("devtools:outbox")
    assert admin_client.get("/dev/outbox/").status_code == 404


def test_admin_sees_the_last_emails_with_clickable_links(debug_urls, admin_client, outbox_dir):
    OutboxEmailBackend(stream=io.StringIO()).send_messages(
        [message("Older"), message("You have been invited", link=LINK + "?<b>")]
    )

    response = admin_client.get(reverse("devtools:outbox"))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("You have been invited") < html.index("Older")
    assert f'<a href="{LINK}">{LINK}</a>' in html
    assert "<b>" not in html  # the body is escaped; the link stops at "<"
    assert "j@x.de" in html


def test_the_outbox_page_says_when_there_is_nothing_yet(debug_urls, admin_client, outbox_dir):
    response = admin_client.get(reverse("devtools:outbox"))
    assert response.status_code == 200
    assert "No emails yet" in response.content.decode()


def test_only_admins_open_the_outbox(debug_urls, client, outsider_client, admin_client, outbox_dir):
    url = reverse("devtools:outbox")
    assert outsider_client.get(url).status_code == 403
    response = client.get(url)
    assert response.status_code == 302
    assert re.match(r"^/accounts/login/", response["Location"])
    assert admin_client.post(url).status_code == 405
