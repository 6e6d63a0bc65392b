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
