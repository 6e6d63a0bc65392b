import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register


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
