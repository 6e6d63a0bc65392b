"""Personal API tokens: created on the user's own page, shown once, stored as SHA-256
(the tokens are 256-bit random, so a fast hash is enough), with expiry, last use and
revocation. Authentication checks the user's ``is_active`` on every call.

A person's tokens that are not revoked have distinct names, whatever their case (the
name is how they tell them apart when revoking one): the service refuses a namesake by
the ``name`` field, and a unique constraint on ``lower(name)`` keeps that true when two
requests race. An expired token is no longer in use, so creating a token with its name
retires it (sets ``revoked_at``: it stays listed as expired)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from koastops.accounts.models import ApiToken, User
from koastops.activity.services import activity_record

TOKEN_PREFIX = "kst_"  # noqa: S105 - a public marker, not a secret
MAX_LIFETIME_DAYS = 365
# Writing last_used_at on every call would turn each read into a write.
_LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _duplicate_name_message(name: str) -> str:
    return (
        f"You already have a token named “{name}” (names are compared without case). "
        "Choose another name, or revoke that token first."
    )


def token_status(token: ApiToken, now: dt.datetime) -> str:
    """ "active", "expired" or "revoked": whichever ended the token first."""
    if token.revoked_at is not None and token.revoked_at < token.expires_at:
        return "revoked"
    return "active" if token.expires_at > now and token.revoked_at is None else "expired"


@transaction.atomic
def api_token_create(*, user: User, name: str, expires_in_days: int = 90) -> tuple[ApiToken, str]:
    """Returns the token row and the plaintext, which is never retrievable again."""
    if not 1 <= expires_in_days <= MAX_LIFETIME_DAYS:
        raise ValidationError(
            {"expires_in_days": f"Choose between 1 and {MAX_LIFETIME_DAYS} days."}
        )
    name = name.strip()[:100] or "API token"
    now = timezone.now()
    namesakes = ApiToken.objects.filter(user=user, name__iexact=name, revoked_at__isnull=True)
    # An expired namesake is unusable already: retire it so the name is free again.
    namesakes.filter(expires_at__lte=now).update(revoked_at=now)
    if namesakes.exists():
        raise ValidationError({"name": _duplicate_name_message(name)})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                user=user,
                name=name,
                prefix=raw[:12],
                token_hash=_hash(raw),
                expires_at=now + dt.timedelta(days=expires_in_days),
            )
    except IntegrityError:
        # A request with the same name committed between the check and the insert.
        raise ValidationError({"name": _duplicate_name_message(name)}) from None
    activity_record(
        verb="api_token.created",
        actor=user,
        target=token,
        after={"name": token.name, "expires_at": token.expires_at},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, user: User, token: ApiToken) -> bool:
    """A user revokes one of their own tokens (compare-and-set: revoking twice is a no-op)."""
    if token.user_id != user.pk:
        raise Http404("No such token.")
    now = timezone.now()
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now) != 1:
        return False
    token.revoked_at = now
    activity_record(verb="api_token.revoked", actor=user, target=token, after={"revoked": True})
    return True


def api_tokens_revoke_all(*, user: User) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def api_token_authenticate(raw: str) -> User | None:
    """The active user behind a usable token, or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(token_hash=_hash(raw)).first()
    now = timezone.now()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
