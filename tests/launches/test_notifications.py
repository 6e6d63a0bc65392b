"""Who hears about a launch in review and about its decision: in the app at once, by email
after commit (the email task is enqueued on commit and run here, as the worker would)."""

from __future__ import annotations

import pytest
from django.core import mail

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.launches import services
from koastops.notifications.models import Notification
from tests.factories import AdminFactory, LaunchFactory, UserFactory
from tests.launches.review_support import finish, in_review

pytestmark = pytest.mark.django_db


def _member(brand, role, email):
    user = UserFactory(email=email)
    policies.grant_role(user, brand, role)
    return user


def test_a_launch_reaching_review_notifies_the_ops_leads_but_the_submitter(
    enqueued, django_capture_on_commit_callbacks
):
    launch = LaunchFactory(campaign_name="Marker-Spring")
    brand = launch.brand
    submitter = launch.created_by
    submitter.email = "buyer@example.com"
    submitter.save()
    policies.grant_role(submitter, brand, Role.MEDIA_BUYER)
    first = _member(brand, Role.OPS_LEAD, "lead.one@example.com")
    second = _member(brand, Role.OPS_LEAD, "lead.two@example.com")
    _member(brand, Role.LEGAL_REVIEWER, "legal@example.com")
    _member(brand, Role.MEDIA_BUYER, "other.buyer@example.com")
    other_brand_lead = _member(LaunchFactory().brand, Role.OPS_LEAD, "elsewhere@example.com")
    AdminFactory(email="admin@example.com")  # holds no role: not the one asked to act
    run = services.launch_submit(user=submitter, launch=launch, expected_version=1)
    with django_capture_on_commit_callbacks(execute=True):
        finish(run)
    notified = Notification.objects.filter(kind="launch.review")
    assert {n.user for n in notified} == {first, second}
    assert other_brand_lead not in {n.user for n in notified}
    assert all("Marker-Spring" in n.title for n in notified)
    assert all(str(launch.pk) in n.url for n in notified)
    assert mail.outbox == []  # the emails go after commit, through the worker's task
    with django_capture_on_commit_callbacks(execute=True):
        enqueued.run()
    assert sorted(email.to[0] for email in mail.outbox) == [
        "lead.one@example.com",
        "lead.two@example.com",
    ]


def test_an_ops_lead_who_submitted_is_not_asked_to_review_their_own_launch(
    django_capture_on_commit_callbacks,
):
    launch = LaunchFactory()
    submitter = _member(launch.brand, Role.OPS_LEAD, "submitting.lead@example.com")
    other = _member(launch.brand, Role.OPS_LEAD, "other.lead@example.com")
    run = services.launch_submit(user=submitter, launch=launch, expected_version=1)
    with django_capture_on_commit_callbacks(execute=True):
        finish(run)
    assert {n.user for n in Notification.objects.filter(kind="launch.review")} == {other}


@pytest.mark.parametrize(
    ("decide", "label"),
    [
        ("approve", "approved"),
        ("reject", "rejected"),
        ("request_changes", "changes requested"),
    ],
)
def test_a_decision_notifies_the_submitter_only(
    decide, label, enqueued, django_capture_on_commit_callbacks
):
    launch = in_review(campaign_name="Marker-Decided")
    submitter = launch.created_by
    submitter.email = "buyer@example.com"
    submitter.save()
    lead = _member(launch.brand, Role.OPS_LEAD, "deciding.lead@example.com")
    Notification.objects.all().delete()
    mail.outbox.clear()
    kwargs = {"user": lead, "launch": launch, "expected_version": launch.version}
    if decide != "approve":
        kwargs["comment"] = "Use the spring landing page."
    with django_capture_on_commit_callbacks(execute=True):
        getattr(services, f"launch_{decide}")(**kwargs)
    notes = list(Notification.objects.all())
    assert [(n.user, n.kind) for n in notes] == [(submitter, "launch.decided")]
    assert label in notes[0].title and "Marker-Decided" in notes[0].title
    if decide != "approve":
        assert "Use the spring landing page." in notes[0].body
    with django_capture_on_commit_callbacks(execute=True):
        enqueued.run()
    assert [email.to[0] for email in mail.outbox] == ["buyer@example.com"]


def test_a_refused_decision_notifies_nobody(django_capture_on_commit_callbacks):
    launch = in_review()
    lead = _member(launch.brand, Role.OPS_LEAD, "deciding.lead@example.com")
    Notification.objects.all().delete()
    with pytest.raises(services.WrongState), django_capture_on_commit_callbacks(execute=True):
        services.launch_cancel(user=lead, launch=launch, expected_version=launch.version)
        launch.refresh_from_db()
        services.launch_approve(user=lead, launch=launch, expected_version=launch.version)
    assert not Notification.objects.filter(kind="launch.decided").exists()
