"""The registry of activity verbs. Recording an unregistered verb is an error, so a
typo cannot slip into the log. Each verb says what happened in words (``VERBS``, the
text the API and the exports carry), which group of the activity filter it belongs to,
its label there, and the sentence the activity feed shows (``{target}`` is the object's
label, ``{role}`` / ``{old_role}`` the role after / before)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VerbInfo:
    code: str
    description: str  # what happened, in words (API ``verb_text``, export ``description``)
    label: str  # the option in the "what" filter, under its group
    sentence: str  # the feed's line after the actor's name


# The filter's groups, in the order they are offered.
GROUPS: tuple[tuple[str, str], ...] = (
    ("brand", "Brand"),
    ("ad_account", "Ad accounts"),
    ("pixel", "Pixels"),
    ("member", "Members"),
    ("event", "Tracking plan"),
    ("plan", "Tracking plan"),
    ("naming_rule", "Naming rules"),
    ("consent_config", "Consent"),
    ("consent", "Consent"),
    ("consent_policy", "Consent"),
    ("pixel_connection", "Event quality"),
    ("quality_settings", "Event quality"),
    ("alert_rule", "Alerts"),
    ("alert", "Alerts"),
    ("conversion_import", "CRM conversions"),
    ("launch", "Launches"),
    ("budget_limit", "Launches"),
    ("user", "Sign-in and account"),
    ("api_token", "Sign-in and account"),
    ("system", "System"),
)
GROUP_LABELS = dict(GROUPS)

_REGISTRY: tuple[VerbInfo, ...] = (
    # catalog
    VerbInfo("brand.created", "created the brand", "Brand created", "created the brand {target}"),
    VerbInfo("brand.updated", "edited the brand", "Brand edited", "edited the brand {target}"),
    VerbInfo(
        "brand.archived", "archived the brand", "Brand archived", "archived the brand {target}"
    ),
    VerbInfo(
        "brand.restored", "restored the brand", "Brand restored", "restored the brand {target}"
    ),
    VerbInfo(
        "ad_account.created",
        "added the ad account",
        "Ad account added",
        "added the ad account {target}",
    ),
    VerbInfo(
        "ad_account.updated",
        "edited the ad account",
        "Ad account edited",
        "edited the ad account {target}",
    ),
    VerbInfo(
        "ad_account.archived",
        "archived the ad account",
        "Ad account archived",
        "archived the ad account {target}",
    ),
    VerbInfo(
        "ad_account.restored",
        "restored the ad account",
        "Ad account restored",
        "restored the ad account {target}",
    ),
    VerbInfo("pixel.created", "added the pixel", "Pixel added", "added the pixel {target}"),
    VerbInfo("pixel.updated", "edited the pixel", "Pixel edited", "edited the pixel {target}"),
    VerbInfo(
        "pixel.token_changed",
        "changed the pixel's access token",
        "Pixel access token set",
        "set the access token of the pixel {target}",
    ),
    VerbInfo(
        "pixel.token_removed",
        "removed the pixel's access token",
        "Pixel access token removed",
        "removed the access token of the pixel {target}",
    ),
    VerbInfo(
        "pixel.archived", "archived the pixel", "Pixel archived", "archived the pixel {target}"
    ),
    VerbInfo(
        "pixel.restored", "restored the pixel", "Pixel restored", "restored the pixel {target}"
    ),
    # tracking plan and naming rules
    VerbInfo("event.created", "added the event", "Event added", "added the event {target}"),
    VerbInfo("event.updated", "edited the event", "Event edited", "edited the event {target}"),
    VerbInfo(
        "event.activated", "activated the event", "Event activated", "activated the event {target}"
    ),
    VerbInfo(
        "event.deprecated",
        "deprecated the event",
        "Event deprecated",
        "deprecated the event {target}",
    ),
    VerbInfo(
        "event.imported",
        "changed the event by a plan import",
        "Event changed by import",
        "changed the event {target} by importing a plan",
    ),
    VerbInfo(
        "plan.template_applied",
        "applied the starter template",
        "Starter template applied",
        "applied the starter template to the {target}",
    ),
    VerbInfo(
        "plan.imported",
        "imported a tracking plan",
        "Tracking plan imported",
        "imported a plan into the {target}",
    ),
    VerbInfo(
        "naming_rule.saved",
        "saved the brand's naming rule",
        "Naming rule saved",
        "saved the {target}",
    ),
    VerbInfo(
        "naming_rule.reset",
        "reset the naming rule to the install default",
        "Naming rule reset",
        "reset the {target} to the install default",
    ),
    VerbInfo(
        "naming_rule.default_saved",
        "saved an install-wide default naming rule",
        "Default naming rule saved",
        "saved the install-wide {target}",
    ),
    # consent
    VerbInfo(
        "consent_config.created",
        "created a consent config",
        "Consent config created",
        "created the {target}",
    ),
    VerbInfo(
        "consent_config.updated",
        "changed a consent config's signed content",
        "Consent config changed",
        "changed the {target}",
    ),
    VerbInfo(
        "consent_config.notes_updated",
        "changed a consent config's internal notes",
        "Consent notes changed",
        "changed the internal notes of the {target}",
    ),
    VerbInfo(
        "consent.approved",
        "signed off a consent config",
        "Consent signed off",
        "signed off the {target}",
    ),
    VerbInfo(
        "consent.rejected",
        "rejected a consent config",
        "Consent rejected",
        "rejected the {target}",
    ),
    VerbInfo(
        "consent_policy.updated",
        "changed how long consent sign-offs stay valid",
        "Consent settings changed",
        "changed the {target}",
    ),
    # event quality, alerts and CRM conversions (pulls write pull runs, not activity)
    VerbInfo(
        "pixel_connection.updated",
        "changed where a pixel's quality stats come from",
        "Pixel connection changed",
        "changed the stats connection of {target}",
    ),
    VerbInfo(
        "quality_settings.updated",
        "changed the event-quality thresholds",
        "Quality thresholds changed",
        "changed the {target}",
    ),
    VerbInfo("alert_rule.created", "added an alert rule", "Alert rule added", "added the {target}"),
    VerbInfo(
        "alert_rule.updated", "edited an alert rule", "Alert rule edited", "edited the {target}"
    ),
    VerbInfo(
        "alert_rule.deleted",
        "deleted an alert rule",
        "Alert rule deleted",
        "deleted the {target}",
    ),
    VerbInfo("alert.opened", "an alert opened", "Alert opened", "opened the alert {target}"),
    VerbInfo(
        "alert.resolved", "an alert resolved", "Alert resolved", "resolved the alert {target}"
    ),
    VerbInfo(
        "conversion_import.finished",
        "imported CRM conversions",
        "CRM conversions imported",
        "imported CRM conversions: {target}",
    ),
    # launches
    VerbInfo("launch.created", "drafted a launch", "Launch drafted", "drafted the {target}"),
    VerbInfo(
        "launch.duplicated",
        "duplicated a launch",
        "Launch duplicated",
        "drafted the {target} as a copy",
    ),
    VerbInfo("launch.updated", "edited a launch", "Launch edited", "edited the {target}"),
    VerbInfo(
        "launch.submitted",
        "submitted a launch for approval",
        "Launch submitted",
        "submitted the {target} for approval",
    ),
    VerbInfo(
        "launch.checks_requested",
        "re-ran a launch's checks",
        "Launch checks re-run",
        "re-ran the checks of the {target}",
    ),
    VerbInfo(
        "launch.checked",
        "a launch's checks ended",
        "Launch checks ended",
        "finished the checks of the {target}",
    ),
    VerbInfo(
        "launch.check_overridden",
        "overrode a failed launch check",
        "Launch check overridden",
        "overrode a failed check of the {target}",
    ),
    VerbInfo("launch.approved", "approved a launch", "Launch approved", "approved the {target}"),
    VerbInfo("launch.rejected", "rejected a launch", "Launch rejected", "rejected the {target}"),
    VerbInfo(
        "launch.changes_requested",
        "asked for changes to a launch",
        "Launch changes requested",
        "asked for changes to the {target}",
    ),
    VerbInfo(
        "launch.cancelled", "cancelled a launch", "Launch cancelled", "cancelled the {target}"
    ),
    VerbInfo(
        "launch.launched",
        "marked a launch launched",
        "Launch launched",
        "marked the {target} launched",
    ),
    VerbInfo(
        "launch.regressed",
        "a launch check that passed now fails",
        "Launch check regressed",
        "found a failing check on the live {target}",
    ),
    VerbInfo(
        "launch.regression_resolved",
        "a regressed launch check passes again",
        "Launch check recovered",
        "found the failing check of the live {target} passing again",
    ),
    VerbInfo(
        "budget_limit.updated",
        "changed an ad account's budget limits",
        "Budget limits changed",
        "changed the {target}",
    ),
    # members and access
    VerbInfo("member.invited", "invited the member", "Member invited", "invited {target}"),
    VerbInfo(
        "member.role_granted", "granted a role", "Role granted", "gave {target} the role {role}"
    ),
    VerbInfo(
        "member.role_changed",
        "changed a role",
        "Role changed",
        "changed the role of {target} to {role}",
    ),
    VerbInfo(
        "member.role_revoked",
        "revoked a role",
        "Role revoked",
        "revoked the role {old_role} of {target}",
    ),
    VerbInfo(
        "member.ad_accounts_narrowed",
        "narrowed a media buyer to ad accounts",
        "Ad accounts narrowed",
        "changed which ad accounts {target} may use",
    ),
    VerbInfo(
        "member.deactivated", "deactivated the user", "User deactivated", "deactivated {target}"
    ),
    VerbInfo(
        "user.password_changed",
        "changed their password",
        "Password changed",
        "changed their password",
    ),
    VerbInfo(
        "user.password_reset",
        "set a new password from an emailed link",
        "Password reset by email",
        "set a new password from an emailed link",
    ),
    VerbInfo(
        "user.created",
        "created the user on the admin site",
        "User created (admin site)",
        "created the user {target} on the admin site",
    ),
    VerbInfo(
        "user.updated",
        "changed the user on the admin site",
        "User changed (admin site)",
        "changed the user {target} on the admin site",
    ),
    VerbInfo(
        "user.password_set",
        "set the user's password on the admin site",
        "Password set (admin site)",
        "set the password of {target} on the admin site",
    ),
    VerbInfo(
        "api_token.created",
        "created an API token",
        "API token created",
        "created the API token {target}",
    ),
    VerbInfo(
        "api_token.revoked",
        "revoked an API token",
        "API token revoked",
        "revoked the API token {target}",
    ),
    # system
    VerbInfo(
        "system.worker_pinged",
        "pinged the background worker",
        "Worker pinged",
        "pinged the background worker",
    ),
)

VERB_INFO: dict[str, VerbInfo] = {info.code: info for info in _REGISTRY}
VERBS: dict[str, str] = {info.code: info.description for info in _REGISTRY}


class UnknownVerb(ValueError):
    pass


def check_verb(verb: str) -> str:
    if verb not in VERBS:
        raise UnknownVerb(f"{verb!r} is not a registered activity verb.")
    return verb


def group_of(verb: str) -> str:
    """The filter group a verb is listed under ("Other" for one no longer registered)."""
    return GROUP_LABELS.get(verb.partition(".")[0], "Other")


def label_of(verb: str) -> str:
    info = VERB_INFO.get(verb)
    return info.label if info else verb


def grouped_choices(verbs: set[str] | list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """``verbs`` as ``(group, [(verb, label), …])`` for a select with ``<optgroup>``:
    groups in registry order, verbs in registry order inside a group (unregistered ones,
    if any, last under "Other")."""
    order = {info.code: index for index, info in enumerate(_REGISTRY)}
    groups: dict[str, list[tuple[str, str]]] = {label: [] for _, label in GROUPS}
    groups["Other"] = []
    for verb in sorted(verbs, key=lambda code: (order.get(code, len(order)), code)):
        groups[group_of(verb)].append((verb, label_of(verb)))
    return [(group, options) for group, options in groups.items() if options]
