"""The launch state machine through the services: drafts, submit, the run's end, review,
four eyes, edit voiding an approval, cancel, launched."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.core.exceptions import StaleVersion
from koastops.launches import inputs, services
from koastops.launches.models import CheckResult, CheckRun, Launch
from tests.factories import AdminFactory, LaunchFactory, UserFactory

pytestmark = pytest.mark.django_db


def _people(launch):
    buyer, lead = launch.created_by, UserFactory()
    policies.grant_role(buyer, launch.brand, Role.MEDIA_BUYER)
    policies.grant_role(lead, launch.brand, Role.OPS_LEAD)
    return buyer, lead


def _data(launch, **changes):
    data = inputs.as_data(Launch.objects.get(pk=launch.pk))
    data.update(changes)
    return data


def _finish(run, status="pass"):
    CheckResult.objects.filter(run=run).update(status=status)
    return services.run_finished(run_id=run.pk)


def test_submit_runs_checks_and_review_decides(django_capture_on_commit_callbacks):
    launch = LaunchFactory()
    buyer, lead = _people(launch)
    with django_capture_on_commit_callbacks() as callbacks:
        run = services.launch_submit(user=buyer, launch=launch, expected_version=1)
    assert len(callbacks) >= 1
    launch.refresh_from_db()
    assert launch.state == "checking" and run.total == CheckResult.objects.filter(run=run).count()
    assert services.run_finished(run_id=run.pk) is None or launch.state == "checking"
    _finish(run)
    launch.refresh_from_db()
    assert launch.state == "in_review"
    with pytest.raises(PermissionDenied):
        services.launch_approve(user=buyer, launch=launch, expected_version=launch.version)
    for own in (lead, AdminFactory()):  # four eyes, admins included
        Launch.objects.filter(pk=launch.pk).update(submitted_by=own)
        with pytest.raises(services.OwnWork):
            services.launch_approve(user=own, launch=launch, expected_version=launch.version)
    Launch.objects.filter(pk=launch.pk).update(submitted_by=buyer)
    review = services.launch_approve(user=lead, launch=launch, expected_version=launch.version)
    launch.refresh_from_db()
    assert launch.state == "approved" and launch.approved_hash == launch.content_hash
    assert review.snapshot["campaign_name"] == launch.campaign_name


def test_blocking_failure_needs_an_override():
    launch = LaunchFactory()
    buyer, lead = _people(launch)
    run = services.launch_submit(user=buyer, launch=launch, expected_version=1)
    result = CheckResult.objects.filter(run=run, severity="blocking").first()
    _finish(run)
    CheckResult.objects.filter(pk=result.pk).update(status="fail")
    launch.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        services.launch_approve(user=lead, launch=launch, expected_version=launch.version)
    assert f"overrides.{result.key}" in caught.value.message_dict
    services.launch_approve(
        user=lead,
        launch=launch,
        expected_version=launch.version,
        overrides={result.key: "Signed on paper."},
    )
    assert launch.overrides.get().reason == "Signed on paper."


def test_edit_voids_approval_and_stale_version_is_refused():
    launch = LaunchFactory()
    buyer, lead = _people(launch)
    run = services.launch_submit(user=buyer, launch=launch, expected_version=1)
    _finish(run)
    launch.refresh_from_db()
    services.launch_approve(user=lead, launch=launch, expected_version=launch.version)
    launch.refresh_from_db()
    version = launch.version
    same = services.launch_update(
        user=buyer, launch=launch, data=_data(launch), expected_version=version
    )
    assert same.version == version and same.state == "approved"
    edited = services.launch_update(
        user=buyer, launch=launch, data=_data(launch, budget_amount="300"), expected_version=version
    )
    assert edited.state == "draft" and edited.approved_hash == ""
    with pytest.raises(StaleVersion):
        services.launch_update(
            user=buyer, launch=launch, data=_data(launch), expected_version=version
        )


def test_reject_needs_comment_and_cancel_and_mark_launched():
    launch = LaunchFactory()
    buyer, lead = _people(launch)
    _finish(services.launch_submit(user=buyer, launch=launch, expected_version=1))
    launch.refresh_from_db()
    with pytest.raises(ValidationError):
        services.launch_reject(
            user=lead, launch=launch, expected_version=launch.version, comment=""
        )
    services.launch_request_changes(
        user=lead, launch=launch, expected_version=launch.version, comment="Fix the URL."
    )
    launch.refresh_from_db()
    assert launch.state == "needs_changes"
    _finish(services.launch_submit(user=buyer, launch=launch, expected_version=launch.version))
    launch.refresh_from_db()
    services.launch_approve(user=lead, launch=launch, expected_version=launch.version)
    launch.refresh_from_db()
    with pytest.raises(ValidationError):
        services.launch_mark_launched(
            user=buyer, launch=launch, expected_version=launch.version, platform_campaign_id="x"
        )
    services.launch_mark_launched(
        user=buyer,
        launch=launch,
        expected_version=launch.version,
        platform_campaign_id="120210000000000001",
    )
    launch.refresh_from_db()
    assert launch.state == "launched" and launch.monitor_until
    with pytest.raises(services.WrongState):
        services.launch_cancel(user=buyer, launch=launch, expected_version=launch.version)
    copy = services.launch_duplicate(user=buyer, launch=launch)
    assert copy.state == "draft" and copy.content_hash != "" and copy.ad_sets.count() == 1
    services.launch_cancel(user=buyer, launch=copy, expected_version=copy.version)
    assert CheckRun.objects.filter(launch=copy).count() == 0


def test_parse_reports_paths():
    launch = LaunchFactory()
    buyer, _ = _people(launch)
    data = _data(launch, budget_amount="-1", markets=["ZZ"])
    data["ad_sets"][0]["ads"][0]["landing_url"] = "ftp://x"
    with pytest.raises(ValidationError) as caught:
        inputs.parse(user=buyer, brand=launch.brand, data=data)
    errors = caught.value.message_dict
    assert {"budget_amount", "markets", "ad_sets.0.market", "ad_sets.0.ads.0.landing_url"} <= set(
        errors
    )


def test_run_inline_runs_the_registry_and_ends_the_run():
    from koastops.launches import runner

    launch = LaunchFactory()
    buyer, _ = _people(launch)
    run = services.launch_submit(user=buyer, launch=launch, expected_version=1)
    runner.run_inline(run.pk)
    run.refresh_from_db()
    launch.refresh_from_db()
    assert run.state == "done" and launch.state == "in_review"
    schedule = CheckResult.objects.get(run=run, key="schedule.valid")
    assert schedule.status == "pass"
