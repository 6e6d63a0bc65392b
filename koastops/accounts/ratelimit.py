"""Fixed-window request counters in Django's cache, for the password-reset form: at most
``PASSWORD_RESET_LIMIT_PER_EMAIL`` requests per email address and
``PASSWORD_RESET_LIMIT_PER_IP`` per client IP in ``PASSWORD_RESET_WINDOW_MINUTES``.

The email limit counts whatever address was typed, whether or not a user has it, so the
answer never tells which addresses exist. The IP is the one django-axes locks sign-ins
out by, so both defences see the same client."""

from __future__ import annotations

import hashlib

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _hit(key: str, limit: int, window: int) -> bool:
    """Count one request under ``key``; False once the window holds more than ``limit``."""
    if limit <= 0:
        return True
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def password_reset_allowed(*, request: HttpRequest, email: str) -> bool:
    """Count this request against the email's and the client IP's limits (both, always);
    True when it is within both."""
    window = settings.PASSWORD_RESET_WINDOW_MINUTES * 60
    ip = get_client_ip_address(request) or "unknown"
    by_ip = _hit(
        f"ratelimit:password-reset:ip:{_digest(ip)}", settings.PASSWORD_RESET_LIMIT_PER_IP, window
    )
    by_email = _hit(
        f"ratelimit:password-reset:email:{_digest(email.strip().lower())}",
        settings.PASSWORD_RESET_LIMIT_PER_EMAIL,
        window,
    )
    return by_ip and by_email
