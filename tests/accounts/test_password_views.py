"""Password change and reset are state changes: each writes one activity row."""

import re

from django.test import Client
from django.urls import reverse

from koastops.activity.models import ActivityEntry
from tests.factories import UserFactory

NEW_PASSWORD = "an-entirely-new-password-77"


def test_password_change_is_logged_once(db, password):
    user = UserFactory(email="changer@example.com")
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    entry = ActivityEntry.objects.get()
    assert (entry.verb, entry.actor_id, entry.target_id) == (
        "user.password_changed",
        user.pk,
        str(user.pk),
    )
    assert NEW_PASSWORD not in str(entry.before) + str(entry.after)


def test_wrong_old_password_changes_nothing_and_logs_nothing(db):
    user = UserFactory(email="changer@example.com")
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    assert not ActivityEntry.objects.exists()


def test_password_reset_from_the_emailed_link_is_logged_once(
    db, mailoutbox, enqueued, django_capture_on_commit_callbacks
):
    user = UserFactory(email="forgetful@example.com")
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": user.email})
    enqueued.run()
    link = re.search(r"/accounts/reset/\S+/\S+/", mailoutbox[0].body).group(0)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session key
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert list(ActivityEntry.objects.values_list("verb", "target_id")) == [
        ("user.password_reset", str(user.pk))
    ]
