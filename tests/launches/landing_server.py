"""A local HTTPS server for the landing-page check: a throwaway CA and a certificate for
``shop.test``, the resolver answering ``shop.test`` with 127.0.0.1, safefetch trusting the
test CA and ``shop.test:<port>`` allow-listed (only the CA and the allow-list are test
settings: address checks, redirects, limits and verification are the production code).

Pages: ``/pixel/<id>`` (HTML with the pixel id), ``/plain`` (HTML without one), ``/gone``
(404), ``/hop/<id>`` (302 to ``/pixel/<id>``), ``/to-private`` (302 to a loopback
address), ``/to-http/<id>`` (302 to http://), ``/slow`` (a body that trickles for 10 s),
``/huge/<id>`` (10 MB, the pixel id after the first 2 MB), ``/delay/<seconds>/<id>``.
``server.seen`` lists the paths requested.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from koastops.core import safefetch

HOST = "shop.test"


def _page(pixel_id: str | None) -> bytes:
    script = f"<script>fbq('init', '{pixel_id}');</script>" if pixel_id else ""
    return f"<!doctype html><html><head>{script}</head><body>Shop</body></html>".encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        parts = self.path.strip("/").split("/")
        port = self.server.server_address[1]
        try:
            if parts[0] == "pixel":
                self._send(200, _page(parts[1]))
            elif parts[0] == "plain":
                self._send(200, _page(None))
            elif parts[0] == "hop":
                self._send(302, headers={"Location": f"/pixel/{parts[1]}"})
            elif parts[0] == "to-private":
                self._send(302, headers={"Location": "https://127.0.0.2/pixel/1"})
            elif parts[0] == "to-http":
                self._send(302, headers={"Location": f"http://{HOST}:{port}/pixel/{parts[1]}"})
            elif parts[0] == "delay":
                time.sleep(float(parts[1]))
                self._send(200, _page(parts[2]))
            elif parts[0] == "slow":
                self.send_response(200)
                self.send_header("Content-Length", "200")
                self.end_headers()
                for _ in range(200):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            elif parts[0] == "huge":
                self.send_response(200)
                self.send_header("Content-Length", str(10_000_000 + 40))
                self.end_headers()
                for _ in range(25):
                    self.wfile.write(b"x" * 100_000)
                self.wfile.write(_page(parts[1]))
                for _ in range(75):
                    self.wfile.write(b"x" * 100_000)
            else:
                self._send(404, b"<html>Not found</html>")
        except (OSError, ssl.SSLError):
            pass


def _tls_files(directory: Path) -> tuple[str, str, str]:
    from koastops.devtools.tls import throwaway_tls

    return throwaway_tls(directory, dns=[HOST])


def serve(tmp_path, monkeypatch, settings) -> Iterator[ThreadingHTTPServer]:
    """The server, for a fixture to ``yield from`` (it patches through ``monkeypatch``)."""
    ca, cert, key = _tls_files(tmp_path)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.seen = []  # type: ignore[attr-defined]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    settings.SAFE_FETCH_ALLOWED_HOSTS = [f"{HOST}:{port}"]
    real_resolve = socket.getaddrinfo

    def getaddrinfo(host, port_, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == HOST:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port_))]
        return real_resolve(host, port_, *args, **kwargs)

    monkeypatch.setattr(safefetch.socket, "getaddrinfo", getaddrinfo)
    real_context = ssl.create_default_context
    monkeypatch.setattr(safefetch.ssl, "create_default_context", lambda: real_context(cafile=ca))
    httpd.base = f"https://{HOST}:{port}"  # type: ignore[attr-defined]
    yield httpd
    httpd.shutdown()
    httpd.server_close()
