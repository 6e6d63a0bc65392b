"""A local HTTP server for the screenshot tour and Lighthouse, and sessions to sign in with.

The app runs in this process, in Django's threaded WSGI server (the one ``runserver`` and
the live-server tests use), on 127.0.0.1 and a free port. Static files are served by the
app's WhiteNoise middleware, exactly as in production: with ``STATIC_MANIFEST`` on (the
default with DEBUG off) from STATIC_ROOT after ``collectstatic`` (hashed names, gzip and
Brotli copies); with it off, straight from the finders.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application
from django.test import Client

from koastops.accounts.models import User

# What Playwright's bundled-browser launches would add; the system Chromium needs them in
# containers (tests/browser/conftest.py launches with the same list).
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log: the command reports what it did."""


@contextmanager
def running_server(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the app until the block ends; yields its base URL (no trailing slash)."""
    httpd = ThreadedWSGIServer((host, port), _QuietHandler, allow_reuse_address=True)
    httpd.set_app(get_wsgi_application())
    thread = threading.Thread(target=httpd.serve_forever, name="koastops-serve", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def session_cookie(user: User) -> tuple[str, str]:
    """(cookie name, value) of a fresh signed-in session of ``user``."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    return cookie.key, cookie.value
