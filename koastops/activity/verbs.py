"""The registry of activity verbs. Recording an unregistered verb is an error, so a
typo cannot slip into the log; each verb says what happened in words for the page."""

from __future__ import annotations

VERBS: dict[str, str] = {
    # catalog
    "brand.created": "created the brand",
    "brand.updated": "edited the brand",
    "brand.archived": "archived the brand",
    "brand.restored": "restored the brand",
    "ad_account.created": "added the ad account",
    "ad_account.updated": "edited the ad account",
    "ad_account.archived": "archived the ad account",
    "ad_account.restored": "restored the ad account",
    "pixel.created": "added the pixel",
    "pixel.updated": "edited the pixel",
    "pixel.token_changed": "changed the pixel's access token",
    "pixel.token_removed": "removed the pixel's access token",
    "pixel.archived": "archived the pixel",
    "pixel.restored": "restored the pixel",
    # members and access
    "member.invited": "invited the member",
    "member.role_granted": "granted a role",
    "member.role_changed": "changed a role",
    "member.role_revoked": "revoked a role",
    "member.ad_accounts_narrowed": "narrowed a media buyer to ad accounts",
    "member.deactivated": "deactivated the user",
    "user.password_changed": "changed their password",
    "user.password_reset": "set a new password from an emailed link",
    "user.created": "created the user on the admin site",
    "user.updated": "changed the user on the admin site",
    "user.password_set": "set the user's password on the admin site",
    "api_token.created": "created an API token",
    "api_token.revoked": "revoked an API token",
    # system
    "system.worker_pinged": "pinged the background worker",
}


class UnknownVerb(ValueError):
    pass


def check_verb(verb: str) -> str:
    if verb not in VERBS:
        raise UnknownVerb(f"{verb!r} is not a registered activity verb.")
    return verb
