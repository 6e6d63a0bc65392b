"""The alert webhook: a Slack-compatible POST through core.safefetch, retried on transient
failures (at most 5 retries), its outcome on the alert.

The webhook receiver is a local http server on 127.0.0.1, allow-listed for the test
(``SAFE_FETCH_ALLOWED_HOSTS``), and https is relaxed for it with
``ALERT_WEBHOOK_HTTPS_ONLY = False`` (default True): everything else (the address checks
of other hosts, redirects, caps) is the production path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.quality import alerting, tasks_alerts
from koastops.quality.models import Alert, PixelConnection
from tests.factories import AlertRuleFactory, PixelConnectionFactory, UserFactory
from tests.system.test_worker import running_worker, wait_for


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[dict] = []
        self.statuses: list[int] = []  # answers to give, in order (then 200)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        server: Receiver = self.server  # type: ignore[assignment]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server.received.append(json.loads(body))
        status = server.statuses.pop(0) if server.statuses else 200
        payload = b"ok"
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SAFE_FETCH_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_address[1]}"]
    settings.ALERT_WEBHOOK_HTTPS_ONLY = False
    yield server
    server.shutdown()
    server.server_close()


def _silent_pixel(pixel, hours=10):
    PixelConnectionFactory(pixel=pixel)
    now = timezone.now()
    PixelConnection.objects.filter(pixel=pixel).update(
        status="ok",
        counts_pulled_at=now,
        counts_through=now,
        last_fired_at=now - timedelta(hours=hours),
    )


def _open(brand, pixel, url, capture):
    rule = AlertRuleFactory(
        brand=brand, kind="silent", threshold=Decimal("6"), webhook_url=url, notify_email=False
    )
    _silent_pixel(pixel)
    with capture(execute=True):
        alerting.evaluate_brand(brand.pk)
    return rule, Alert.objects.get(rule=rule)


def _drain(enqueued, capture) -> None:
    while enqueued.calls:
        with capture(execute=True):
            enqueued.run()


@pytest.mark.django_db
def test_opened_and_resolved_messages_are_posted(
    brand, pixel, receiver, enqueued, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    _, alert = _open(brand, pixel, receiver.url, capture)
    _drain(enqueued, capture)
    [message] = receiver.received
    assert message["text"].startswith("Alert on Own Brand (Pixel silent): Pixel Shop pixel")
    assert "/brands/own-brand/quality/alerts/" in message["text"]
    alert.refresh_from_db()
    assert alert.webhook_status == "opened: sent (200)" and alert.notified_at is not None

    tasks_alerts.alert_webhook.apply(args=(alert.pk, "opened"))  # redelivered: not again
    assert len(receiver.received) == 1

    PixelConnection.objects.filter(pixel=pixel).update(last_fired_at=timezone.now())
    with capture(execute=True):
        alerting.evaluate_brand(brand.pk)
    assert enqueued.names == ["koastops.quality.alert_webhook"]
    _drain(enqueued, capture)
    assert receiver.received[1]["text"].startswith("Resolved on Own Brand: ")
    alert.refresh_from_db()
    assert alert.webhook_status == "resolved: sent (200)"


@pytest.mark.django_db
def test_a_redelivered_notification_does_not_post_the_webhook_again(
    brand, pixel, receiver, enqueued, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    _, alert = _open(brand, pixel, receiver.url, capture)
    [(task, args, _kwargs)] = enqueued.calls  # the notification task, for this alert
    assert args == (alert.pk,)
    assert task.name == "koastops.quality.alert_notify"
    enqueued.calls.clear()

    Alert.objects.filter(pk=alert.pk).update(webhook_status="opened: retrying (try 1: HTTP 503)")
    alerting.notify_opened(alert.pk)  # redelivered while its webhook task is retrying
    assert enqueued.names == []

    Alert.objects.filter(pk=alert.pk).update(webhook_status="")
    alerting.notify_opened(alert.pk)  # its webhook task never started: sent now
    assert enqueued.names == ["koastops.quality.alert_webhook"]


@pytest.mark.django_db
def test_transient_failures_are_retried_then_sent(
    brand, pixel, receiver, enqueued, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    receiver.statuses = [500, 429]
    _, alert = _open(brand, pixel, receiver.url, capture)
    _drain(enqueued, capture)
    assert len(receiver.received) == 3
    alert.refresh_from_db()
    assert alert.webhook_status == "opened: sent (200)"


@pytest.mark.django_db
def test_gives_up_after_five_retries(
    brand, pixel, receiver, enqueued, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    receiver.statuses = [503] * 10
    _, alert = _open(brand, pixel, receiver.url, capture)
    _drain(enqueued, capture)
    assert len(receiver.received) == 6  # the first try and 5 retries
    alert.refresh_from_db()
    assert alert.webhook_status == "opened: failed after 6 tries: HTTP 503"


@pytest.mark.django_db
def test_client_errors_are_not_retried(
    brand, pixel, receiver, enqueued, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    receiver.statuses = [404]
    _, alert = _open(brand, pixel, receiver.url, capture)
    _drain(enqueued, capture)
    assert len(receiver.received) == 1
    alert.refresh_from_db()
    assert alert.webhook_status == "opened: failed: HTTP 404"


@pytest.mark.django_db
def test_a_name_resolving_to_a_private_address_is_refused_at_send(
    brand, pixel, enqueued, django_capture_on_commit_callbacks, monkeypatch
):
    """At save only literal addresses can be refused; the name is checked when sent."""
    import socket

    from koastops.core import safefetch

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.8", port))]

    monkeypatch.setattr(safefetch.socket, "getaddrinfo", getaddrinfo)
    capture = django_capture_on_commit_callbacks
    _, alert = _open(brand, pixel, "https://hooks.internal.example.com/x", capture)
    _drain(enqueued, capture)
    alert.refresh_from_db()
    assert alert.webhook_status.startswith("opened: refused: hooks.internal.example.com")
    assert "private address" in alert.webhook_status


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_alert_notifies_and_posts_through_a_real_worker(brand, pixel, receiver, settings, tmp_path):
    from koastops.devtools.mail import outbox_list

    settings.MAILERS = {"default": {"BACKEND": "koastops.devtools.mail.OutboxEmailBackend"}}
    settings.EMAIL_OUTBOX_DIR = tmp_path / "outbox"
    ops = UserFactory(email="ops@example.com")
    policies.grant_role(ops, brand, Role.OPS_LEAD)
    receiver.statuses = [502]  # the first try fails: retried on the worker after back-off
    AlertRuleFactory(brand=brand, kind="silent", threshold=Decimal("6"), webhook_url=receiver.url)
    _silent_pixel(pixel)
    with running_worker():
        alerting.evaluate_brand(brand.pk)
        alert = Alert.objects.get()

        def sent() -> bool:
            alert.refresh_from_db()
            return alert.webhook_status == "opened: sent (200)"

        assert wait_for(lambda: len(outbox_list()) == 1), "no email from the worker"
        assert wait_for(sent, timeout=60), alert.webhook_status
    assert len(receiver.received) == 2


@pytest.mark.django_db
def test_https_webhook_without_any_relaxation(
    brand, pixel, enqueued, django_capture_on_commit_callbacks, monkeypatch, settings, tmp_path
):
    """The production path: https only (``ALERT_WEBHOOK_HTTPS_ONLY`` left on), a host name
    resolved and pinned, the certificate verified. Only the resolver's answer (the test
    host is 127.0.0.1, allow-listed) and the trusted CA are the test's."""
    import socket
    import ssl

    from koastops.core import safefetch
    from tests.core.test_safefetch import _tls_files

    ca, cert, key = _tls_files(tmp_path, "hooks.test")
    server = Receiver()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        settings.SAFE_FETCH_ALLOWED_HOSTS = [f"hooks.test:{port}"]

        def getaddrinfo(host, port_, *args, **kwargs):  # type: ignore[no-untyped-def]
            assert host == "hooks.test"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port_))]

        monkeypatch.setattr(safefetch.socket, "getaddrinfo", getaddrinfo)
        real = ssl.create_default_context
        monkeypatch.setattr(safefetch.ssl, "create_default_context", lambda: real(cafile=ca))
        capture = django_capture_on_commit_callbacks
        _, alert = _open(brand, pixel, f"https://hooks.test:{port}/services/x", capture)
        _drain(enqueued, capture)
        alert.refresh_from_db()
        assert alert.webhook_status == "opened: sent (200)"
        assert server.received[0]["text"].startswith("Alert on Own Brand")
    finally:
        server.shutdown()
        server.server_close()
