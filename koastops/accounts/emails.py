"""The emails accounts sends (built by the worker, in ``accounts.tasks``). Links start with
the configured ``SITE_URL``, never with a request's Host header, which a client chooses."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from koastops.accounts.models import User
from koastops.catalog.models import Brand


def site_url(path: str) -> str:
    """An absolute URL on this install: ``SITE_URL`` plus ``path``."""
    return settings.SITE_URL.rstrip("/") + path


def set_password_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return site_url(reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token}))


def invitation_email(*, user: User, brand: Brand, invited_by: User | None) -> EmailMessage:
    inviter = (invited_by.get_full_name() if invited_by else "") or "Someone"
    return EmailMessage(
        subject=f"You have been invited to {brand.name} on koastops",
        body=(
            f"{inviter} invited you to work on {brand.name} in koastops.\n\n"
            f"Choose your password here (the link works once and expires):\n"
            f"{set_password_link(user)}\n\n"
            "Then sign in with this email address."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )


def password_reset_email(*, user: User) -> EmailMessage:
    return EmailMessage(
        subject="Reset your koastops password",
        body=(
            "Someone (hopefully you) asked to reset the password of your koastops account "
            f"{user.email}.\n\n"
            "Choose a new password here (the link works once and expires):\n"
            f"{set_password_link(user)}\n\n"
            "If you did not ask for this, ignore this email: your password stays as it is."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
