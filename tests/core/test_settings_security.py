"""Security headers: a nonce-based Content-Security-Policy and request ids."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

NONCE = re.compile(r"'nonce-([^']+)'")


def _directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _script_nonce(response) -> str:
    script_src = _directives(response["Content-Security-Policy"])["script-src"]
    nonces = [m.group(1) for word in script_src if (m := NONCE.fullmatch(word))]
    assert len(nonces) == 1, script_src
    return nonces[0]


@pytest.mark.parametrize("path", ["/accounts/login/", "/healthz"])
def test_responses_carry_a_strict_content_security_policy(path):
    response = Client().get(path)

    header = response["Content-Security-Policy"]
    directives = _directives(header)
    assert directives["script-src"][0] == "'self'"
    for source in ("'unsafe-inline'", "'unsafe-eval'"):
        assert source not in header
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


def test_rendered_page_allows_scripts_only_by_nonce():
    response = Client().get(reverse("login"))

    script_src = _directives(response["Content-Security-Policy"])["script-src"]
    assert script_src[0] == "'self'"
    assert _script_nonce(response)
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src


def test_nonce_changes_per_response():
    client = Client()

    first = _script_nonce(client.get(reverse("login")))
    second = _script_nonce(client.get(reverse("login")))

    assert first != second


def _assert_scripts_carry_the_nonce(response) -> None:
    nonce = _script_nonce(response)
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "the page should load htmx and app.js"
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag
    # No inline event handlers: the CSP would block them.
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert "hx-on" not in html


def test_login_page_scripts_carry_the_response_nonce():
    response = Client().get(reverse("login"))

    assert response.status_code == 200
    _assert_scripts_carry_the_nonce(response)


def test_system_page_scripts_carry_the_response_nonce(admin_client):
    response = admin_client.get(reverse("system:system"))

    assert response.status_code == 200
    _assert_scripts_carry_the_nonce(response)


def test_request_id_from_the_proxy_is_echoed():
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="req-1234.abc_DEF")

    assert response["X-Request-ID"] == "req-1234.abc_DEF"


def test_unsafe_request_id_is_replaced_by_a_generated_one():
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline<script>")

    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)


def test_request_id_is_generated_when_absent():
    first = Client().get("/healthz")["X-Request-ID"]
    second = Client().get("/healthz")["X-Request-ID"]

    assert first and second and first != second


def test_clickjacking_and_sniffing_protections():
    response = Client().get("/healthz")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def _run_without_secret_key(*args: str, **extra_env: str):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env | extra_env,
        timeout=120,
        check=False,
    )


def test_serving_refuses_to_start_without_a_secret_key():
    result = _run_without_secret_key("-c", "import koastops.wsgi")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_commands_that_sign_nothing_run_without_a_secret_key():
    result = _run_without_secret_key("manage.py", "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_asgi_refuses_to_start_without_a_secret_key():
    result = _run_without_secret_key("-c", "import koastops.asgi")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_workers_refuse_to_start_without_a_secret_key():
    """Celery swallows exceptions from signal handlers: the worker_init one exits."""
    code = (
        "import django; django.setup(); from celery import signals; "
        "signals.worker_init.send(sender=None); print('still running')"
    )
    result = _run_without_secret_key("-c", code, DJANGO_SETTINGS_MODULE="koastops.settings")
    assert result.returncode != 0
    assert "still running" not in result.stdout
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_settings_do_not_guess_from_the_command_line():
    """Whatever runs them (a script, a shell, a test runner), settings without a key load
    with a random per-process key and say so; nothing reads sys.argv."""
    code = (
        "import sys; sys.argv = ['gunicorn']; "
        "from django.conf import settings; "
        "print(settings.SECRET_KEY_MISSING, settings.SECRET_KEY.startswith('ephemeral-'))"
    )
    result = _run_without_secret_key("-c", code, DJANGO_SETTINGS_MODULE="koastops.settings")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
    first = _run_without_secret_key(
        "-c", "from koastops import settings; print(settings.SECRET_KEY)"
    )
    second = _run_without_secret_key(
        "-c", "from koastops import settings; print(settings.SECRET_KEY)"
    )
    assert first.stdout != second.stdout  # per process, never a fixed guessable key


def test_manage_check_runs_without_a_secret_key():
    result = _run_without_secret_key("manage.py", "check")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_a_secret_key():
    """Everything else a deployment needs is set, so the key is what fails."""
    from cryptography.fernet import Fernet

    result = _run_without_secret_key(
        "manage.py",
        "check",
        "--deploy",
        ALLOWED_HOSTS="koastops.example.com",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    assert result.returncode != 0
    assert "koastops.E002" in result.stderr
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr
    assert "koastops.E001" not in result.stderr


def test_check_deploy_passes_the_key_check_with_one(settings):
    from koastops.core.checks import secret_key_configured

    settings.SECRET_KEY_MISSING = False
    assert secret_key_configured(None) == []
    settings.SECRET_KEY_MISSING = True
    assert [error.id for error in secret_key_configured(None)] == ["koastops.E002"]
