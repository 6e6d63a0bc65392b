import re
from urllib.parse import urlsplit

from celery import signals
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

MISSING_SECRET_KEY = "SECRET_KEY must be set when DEBUG is off."  # noqa: S105 - a message


def require_secret_key() -> None:
    """Called by the WSGI / ASGI / Celery entry points: a process that serves requests or
    runs tasks must not sign with the random per-process key settings fall back to."""
    if getattr(settings, "SECRET_KEY_MISSING", False):
        raise ImproperlyConfigured(MISSING_SECRET_KEY)


@signals.worker_init.connect
@signals.beat_init.connect
def _worker_requires_secret_key(**kwargs: object) -> None:
    """Workers and beat refuse the random per-process key, as serving does (connected
    when the core app loads, before any worker starts). Celery logs and swallows a
    handler's exceptions, so this one leaves by SystemExit."""
    try:
        require_secret_key()
    except ImproperlyConfigured as exc:
        raise SystemExit(str(exc)) from exc


@register(Tags.security, deploy=True)
def secret_key_configured(app_configs, **kwargs):
    if getattr(settings, "SECRET_KEY_MISSING", False):
        return [
            Error(
                f"{MISSING_SECRET_KEY} This process runs with a random key of its own: "
                "sessions, password-reset links and CSRF tokens would not survive it.",
                hint='Generate one with: python -c "import secrets; '
                'print(secrets.token_urlsafe(64))"',
                id="koastops.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def encryption_keys_configured(app_configs, **kwargs):
    if not settings.FIELD_ENCRYPTION_KEYS:
        return [
            Error(
                "FIELD_ENCRYPTION_KEYS is not set: pixel access tokens cannot be stored.",
                hint='Generate one with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"',
                id="koastops.E001",
            )
        ]
    return []


# The format koastops.activity.services.activity_keys parses (core imports no domain app).
_ACTIVITY_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,32}:.+$")


@register(Tags.security, deploy=True)
def activity_log_keys_configured(app_configs, **kwargs):
    errors = []
    keys = settings.ACTIVITY_LOG_KEYS
    if not keys:
        errors.append(
            Error(
                "ACTIVITY_LOG_KEYS is not set: the activity log cannot be signed.",
                hint='Set it to key_id:secret, e.g. 2026a:<output of python -c "import '
                'secrets; print(secrets.token_urlsafe(48))">; see docs/operations.md.',
                id="koastops.E101",
            )
        )
    elif not all(_ACTIVITY_KEY.match(str(key).strip()) for key in keys):
        errors.append(
            Error(
                "ACTIVITY_LOG_KEYS entries must look like key_id:secret (key id: up to 32 "
                "letters, digits, '.', '_' or '-').",
                id="koastops.E102",
            )
        )
    url = settings.ACTIVITY_CHECKPOINT_WEBHOOK_URL
    if url and not url.startswith("https://"):
        errors.append(
            Error(
                "ACTIVITY_CHECKPOINT_WEBHOOK_URL must be an https:// URL.",
                id="koastops.E103",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def site_url_configured(app_configs, **kwargs):
    """Links in emails are built from SITE_URL, never from the request's Host header."""
    site_url = urlsplit(getattr(settings, "SITE_URL", ""))
    if site_url.scheme not in ("http", "https") or not site_url.netloc:
        return [
            Error(
                "SITE_URL is not set (or not an http(s) URL): emails cannot link back to koastops.",
                hint="Set SITE_URL to the address users reach koastops by, e.g. "
                "https://koastops.example.com",
                id="koastops.E010",
            )
        ]
    return []
