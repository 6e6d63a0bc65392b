"""Personal API tokens: created on the user's own page, shown once, stored as SHA-256
(the tokens are 256-bit random, so a fast hash is enough), with expiry, last use and
revocation. Authentication checks the user's ``is_active`` on every call."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
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


@transaction.atomic
def api_token_create(*, user: User, name: str, expires_in_days: int = 90) -> tuple[ApiToken, str]:
    """Returns the token row and the plaintext, which is never retrievable again."""
    if not 1 <= expires_in_days <= MAX_LIFETIME_DAYS:
        raise ValidationError(
            {"expires_in_days": f"Choose between 1 and {MAX_LIFETIME_DAYS} days."}
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100] or "API token",
        prefix=raw[:12],
        token_hash=_hash(raw),
        expires_at=timezone.now() + dt.timedelta(days=expires_in_days),
    )
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
