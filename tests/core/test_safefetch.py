"""core.safefetch against a local HTTP server (127.0.0.1, allow-listed only where a test
means it) and a patched resolver for names that resolve to private addresses."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from koastops.core import safefetch
from koastops.core.safefetch import FetchError, UnsafeURL, fetch, validate_url


def _lower(headers: object) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}  # type: ignore[attr-defined]


class _Handler(BaseHTTPRequestHandler):
    server_version = "fake"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.seen.append((self.command, self.path, _lower(self.headers)))  # type: ignore[attr-defined]
        if self.path == "/ok":
            self._send(200, b"hello", {"Content-Type": "text/plain"})
        elif self.path.startswith("/hop/"):
            left = int(self.path.rsplit("/", 1)[1])
            target = "/ok" if left == 0 else f"/hop/{left - 1}"
            self._send(302, headers={"Location": target})
        elif self.path == "/to-private":
            self._send(302, headers={"Location": "http://127.0.0.2/ok"})
        elif self.path == "/to-other-host":
            port = self.server.server_address[1]
            self._send(302, headers={"Location": f"http://localhost:{port}/ok"})
        elif self.path == "/to-ftp":
            self._send(302, headers={"Location": "ftp://example.com/x"})
        elif self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Length", str(10_000_000))
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"x" * 100_000)
            except OSError:
                pass
        elif self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass
        else:
            self._send(404, b"no")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.seen.append((self.command, self.path, _lower(self.headers), body))  # type: ignore[attr-defined]
        if self.path == "/post-redirect":
            self._send(302, headers={"Location": "/ok"})
        else:
            self._send(200, b'{"ok": true}', {"Content-Type": "application/json"})


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def base(server: ThreadingHTTPServer, settings) -> str:
    port = server.server_address[1]
    settings.SAFE_FETCH_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.2/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://255.255.255.255/",
        "http://[::1]/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::127.0.0.1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[64:ff9b::a00:1]/",
        "http://[2002:7f00:1::]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[ff02::1]/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f.0.0.1/",
        "http://0x7f000001/",
        "http://127.1/",
        "http://127.0.1/",
        "http://017700000001/",
        "http://127.0.0.1./",
        "https://10.1.2.3/hook",
    ],
)
def test_unsafe_addresses_are_refused_in_every_notation(url: str) -> None:
    with pytest.raises(UnsafeURL):
        validate_url(url)
    with pytest.raises(UnsafeURL):
        fetch(url, timeout=1)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/x", "http and https"),
        ("file:///etc/passwd", "http and https"),
        ("gopher://example.com/", "http and https"),
        ("javascript:alert(1)", "http and https"),
        ("http://example.com:8080/", "standard ports"),
        ("http://example.com:22/", "standard ports"),
        ("http://user:pw@example.com/", "user name or password"),
        ("http://user@example.com/", "user name or password"),
        ("https://example.com@10.0.0.1/", "user name or password"),
        ("http://exa mple.com/", "spaces"),
        ("http:///nohost", "no host"),
        ("http://1.2.3.400/", "not a valid"),
        ("", "Enter a URL"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(url: str, words: str) -> None:
    with pytest.raises(UnsafeURL) as info:
        validate_url(url)
    assert words in info.value.message


def test_https_only_refuses_http() -> None:
    with pytest.raises(UnsafeURL, match="https"):
        validate_url("http://hooks.example.com/x", https_only=True)
    validate_url("https://hooks.example.com/x", https_only=True)


def test_public_addresses_pass_validation() -> None:
    validate_url("https://8.8.8.8/")
    validate_url("https://[2606:4700:4700::1111]/")
    validate_url("https://hooks.slack.com/services/T/B/X")


def _fake_resolver(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host in answers:
            out = []
            for address in answers[host]:
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, port, 0, 0) if ":" in address else (address, port)
                out.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
            return out
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(safefetch.socket, "getaddrinfo", getaddrinfo)


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch) -> None:
    _fake_resolver(monkeypatch, {"intranet.example.com": ["10.1.2.3"]})
    validate_url("https://intranet.example.com/")  # a name: checked at fetch time
    with pytest.raises(UnsafeURL, match="private"):
        fetch("https://intranet.example.com/", timeout=1)


def test_one_private_address_among_public_ones_refuses_the_host(monkeypatch) -> None:
    _fake_resolver(monkeypatch, {"mixed.example.com": ["8.8.8.8", "::ffff:127.0.0.1"]})
    with pytest.raises(UnsafeURL, match="loopback"):
        fetch("https://mixed.example.com/", timeout=1)


def test_localhost_is_refused() -> None:
    with pytest.raises(UnsafeURL, match="loopback"):
        fetch("http://localhost/", timeout=1)


def test_connects_to_the_checked_address_not_a_second_lookup(
    monkeypatch, server: ThreadingHTTPServer, settings
) -> None:
    """The name is resolved once; the connection goes to that address with the name in
    the Host header (a resolver that answers differently the second time changes
    nothing)."""
    port = server.server_address[1]
    settings.SAFE_FETCH_ALLOWED_HOSTS = [f"rebind.example.com:{port}"]
    calls: list[str] = []

    def getaddrinfo(host, port_, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(host)
        address = "127.0.0.1" if len(calls) == 1 else "10.9.9.9"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port_))]

    monkeypatch.setattr(safefetch.socket, "getaddrinfo", getaddrinfo)
    result = fetch(f"http://rebind.example.com:{port}/ok", timeout=2)
    assert result.status == 200 and result.body == b"hello"
    assert calls == ["rebind.example.com"]
    assert server.seen[-1][2]["host"] == f"rebind.example.com:{port}"  # type: ignore[attr-defined]


def test_allow_listed_local_server_is_fetched(base: str) -> None:
    result = fetch(f"{base}/ok")
    assert (result.status, result.body, result.truncated) == (200, b"hello", False)
    assert result.headers["content-type"] == "text/plain"


def test_allow_list_is_per_host_and_port(base: str, server: ThreadingHTTPServer) -> None:
    with pytest.raises(UnsafeURL):
        fetch("http://127.0.0.1/ok", timeout=1)  # port 80 of the same host: not listed


def test_post_json(base: str, server: ThreadingHTTPServer) -> None:
    result = fetch(f"{base}/hook", method="POST", json={"text": "hi"})
    assert result.status == 200
    method, path, headers, body = server.seen[-1]  # type: ignore[attr-defined]
    assert (method, path, body) == ("POST", "/hook", b'{"text": "hi"}')
    assert headers["content-type"] == "application/json"


def test_redirects_are_followed_up_to_three(base: str) -> None:
    result = fetch(f"{base}/hop/2")  # 3 redirects: /hop/2 -> /hop/1 -> /hop/0 -> /ok
    assert result.status == 200 and result.body == b"hello"
    assert len(result.redirects) == 3
    assert result.final_url.endswith("/ok")


def test_a_fourth_redirect_is_refused(base: str) -> None:
    with pytest.raises(FetchError, match="Too many redirects"):
        fetch(f"{base}/hop/3")


def test_a_redirect_to_a_private_address_is_refused(base: str) -> None:
    with pytest.raises(UnsafeURL, match=r"127\.0\.0\.2"):
        fetch(f"{base}/to-private")


def test_a_redirect_to_another_scheme_is_refused(base: str) -> None:
    with pytest.raises(UnsafeURL, match="http and https"):
        fetch(f"{base}/to-ftp")


def test_post_redirected_becomes_get(base: str) -> None:
    result = fetch(f"{base}/post-redirect", method="POST", json={"a": 1})
    assert result.status == 200 and result.body == b"hello"


def test_huge_body_is_capped(base: str) -> None:
    started = time.monotonic()
    result = fetch(f"{base}/huge", max_bytes=1000)
    assert result.truncated is True
    assert len(result.body) == 1000
    assert time.monotonic() - started < 2


def test_default_cap_is_two_megabytes(base: str) -> None:
    result = fetch(f"{base}/huge")
    assert result.truncated is True
    assert len(result.body) == 2_000_000


def test_slow_body_is_bounded_by_the_total_deadline(base: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match="Timed out"):
        fetch(f"{base}/slow", timeout=0.5)  # each byte arrives in time, the whole does not
    assert time.monotonic() - started < 1.5


def test_connection_refused_is_a_fetch_error(settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SAFE_FETCH_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    with pytest.raises(FetchError):
        fetch(f"http://127.0.0.1:{port}/", timeout=1)


def test_unresolvable_name_is_a_fetch_error(monkeypatch) -> None:
    def getaddrinfo(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise socket.gaierror("nope")

    monkeypatch.setattr(safefetch.socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(FetchError, match="could not be resolved"):
        fetch("https://nowhere.example.com/", timeout=1)


def test_credentials_do_not_follow_a_redirect_to_another_host(
    server: ThreadingHTTPServer, settings
) -> None:
    port = server.server_address[1]
    settings.SAFE_FETCH_ALLOWED_HOSTS = [f"127.0.0.1:{port}", f"localhost:{port}"]
    result = fetch(
        f"http://127.0.0.1:{port}/to-other-host",
        headers={"Authorization": "Bearer secret", "X-Other": "kept"},
    )
    assert result.status == 200 and result.final_url == f"http://localhost:{port}/ok"
    first, second = server.seen[-2:]  # type: ignore[attr-defined]
    assert first[2]["authorization"] == "Bearer secret"
    assert "authorization" not in second[2] and second[2]["x-other"] == "kept"
    assert second[2]["host"] == f"localhost:{port}"


# --- https: the pinned connection still verifies the certificate against the host name ------


def _tls_files(tmp_path, hostname: str) -> tuple[str, str, str]:
    """A throwaway CA and a certificate for ``hostname`` signed by it (PEM paths)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("test CA"))
        .issuer_name(name("test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(hostname))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(paths[0]), str(paths[1]), str(paths[2])


@pytest.fixture
def tls_server(tmp_path, monkeypatch, settings):
    """A TLS server on 127.0.0.1 with a certificate for hooks.test; the resolver answers
    hooks.test with 127.0.0.1 and safefetch trusts the test CA (only the CA is swapped:
    verification and the host-name check are the production code)."""
    import ssl

    ca, cert, key = _tls_files(tmp_path, "hooks.test")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.seen = []  # type: ignore[attr-defined]
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment]
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    httpd.sni = names  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    settings.SAFE_FETCH_ALLOWED_HOSTS = [f"hooks.test:{port}", f"other.test:{port}"]
    _fake_resolver(monkeypatch, {"hooks.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    real = ssl.create_default_context
    monkeypatch.setattr(safefetch.ssl, "create_default_context", lambda: real(cafile=ca))
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_https_to_the_pinned_address_sends_sni_and_verifies_the_name(tls_server) -> None:
    port = tls_server.server_address[1]
    result = fetch(
        f"https://hooks.test:{port}/hook", method="POST", json={"text": "hi"}, https_only=True
    )
    assert result.status == 200 and result.body == b'{"ok": true}'
    assert tls_server.sni[-1] == "hooks.test"
    assert tls_server.seen[-1][2]["host"] == f"hooks.test:{port}"


def test_https_with_a_certificate_for_another_name_fails(tls_server) -> None:
    port = tls_server.server_address[1]
    with pytest.raises(FetchError, match="TLS failed"):
        fetch(f"https://other.test:{port}/ok", timeout=2)
