"""The one way koastops fetches a URL a user gave it (landing pages, alert webhooks).

A URL from a user could point the server at itself or at the private network behind it
(server-side request forgery). So:

- http(s) only, ports 80 and 443 only, no user name or password in the URL;
- the host is resolved here (``getaddrinfo``) and EVERY address it resolves to must be a
  public one: no private, loopback, link-local, multicast, reserved, unspecified or
  carrier-grade-NAT (100.64.0.0/10) address, also when written in another notation
  (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``) or wrapped in IPv6
  (``::ffff:127.0.0.1``, IPv4-compatible, NAT64, 6to4, Teredo);
- the connection is then opened to that exact checked address (the Host header and the
  TLS server name carry the host name), so DNS cannot answer differently in between
  (no rebinding window);
- redirects are followed here, at most ``MAX_REDIRECTS``, each hop checked the same way;
- one total deadline (``timeout``) bounds connect, headers and the body, and the body is
  read streamed up to ``max_bytes`` (``FetchResult.truncated`` says it was cut).

``settings.SAFE_FETCH_ALLOWED_HOSTS`` lists ``host`` or ``host:port`` entries let through
the address (and port) check: for tests against a local server and for intranets.

Core knows no app: this module reads only Django settings.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

MAX_REDIRECTS = 3
DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_BYTES = 2_000_000
ALLOWED_PORTS = frozenset({80, 443})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_USER_AGENT = "koastops-safefetch/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_NUMERIC_PART = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class UnsafeURL(ValueError):
    """The URL may not be fetched; ``message`` says why in words a user can act on."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class FetchError(Exception):
    """The fetch was allowed but failed: no connection, timed out, too many redirects."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class FetchResult:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    final_url: str
    truncated: bool = False
    redirects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # lower-case, IDNA-encoded, no brackets
    port: int
    path: str  # path and query
    host_header: str
    literal: IPAddress | None  # the host written as an IP address (any notation)
    allowed: bool  # listed in SAFE_FETCH_ALLOWED_HOSTS


# --- addresses ------------------------------------------------------------------------------


def _parse_ipv4_loose(host: str) -> ipaddress.IPv4Address | None:
    """The address ``inet_aton`` would read from ``host`` (1 to 4 parts, each decimal,
    octal with a leading 0 or hex with 0x), or None when ``host`` is not numeric. Raises
    ``UnsafeURL`` for a numeric-looking host that is no address (``1.2.3.400``)."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.match(part) for part in parts):
        return None
    values: list[int] = []
    for part in parts:
        if part.startswith("0x"):
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not set(part) <= set("01234567"):
                raise UnsafeURL(f"{host} is not a valid address.")
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *head, last = values
    if any(value > 255 for value in head) or last >= 256 ** (5 - len(values)):
        raise UnsafeURL(f"{host} is not a valid address.")
    number = 0
    for value in head:
        number = number * 256 + value
    number = (number << (8 * (5 - len(values)))) + last
    return ipaddress.IPv4Address(number)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    packed = int(address)
    if packed >> 32 == 0 and packed > 1:  # IPv4-compatible ::a.b.c.d (deprecated)
        found.append(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
    if address in _NAT64 or address in _NAT64_LOCAL:
        found.append(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def unsafe_address_reason(address: IPAddress) -> str | None:
    """Why the server must not connect to ``address``, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "a scoped IPv6 address"
        for inner in _embedded_ipv4(address):
            reason = unsafe_address_reason(inner)
            if reason:
                return reason
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "a carrier-grade NAT address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "a non-public address"
    return None


def _check_address(address: IPAddress, host: str) -> None:
    reason = unsafe_address_reason(address)
    if reason:
        shown = host if host == str(address) else f"{host} ({address})"
        raise UnsafeURL(f"{shown} is {reason}: it may not be fetched.")


# --- URLs -----------------------------------------------------------------------------------


def _allowed_hosts() -> frozenset[str]:
    from django.conf import settings

    return frozenset(
        str(entry).strip().lower() for entry in getattr(settings, "SAFE_FETCH_ALLOWED_HOSTS", ())
    )


def _parse(url: str, *, https_only: bool) -> _Target:
    if not isinstance(url, str) or not url.strip():
        raise UnsafeURL("Enter a URL.")
    url = url.strip()
    if len(url) > 2000:
        raise UnsafeURL("The URL is too long (at most 2,000 characters).")
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise UnsafeURL("The URL may not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port_given = parts.port
    except ValueError as exc:
        raise UnsafeURL("The URL is not valid (bad host or port).") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL("Only http and https URLs may be fetched.")
    if https_only and scheme != "https":
        raise UnsafeURL("The URL must start with https://.")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise UnsafeURL("The URL may not contain a user name or password.")
    raw_host = parts.hostname or ""
    if not raw_host:
        raise UnsafeURL("The URL has no host.")
    host = raw_host.rstrip(".").lower()
    literal: IPAddress | None = None
    if ":" in host:  # an IPv6 literal (urlsplit drops the brackets)
        try:
            literal = ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise UnsafeURL("The URL's host is not valid.") from exc
    else:
        literal = _parse_ipv4_loose(host)
        if literal is None:
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError as exc:
                raise UnsafeURL("The URL's host is not a valid name.") from exc
            if not re.fullmatch(r"[a-z0-9]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9_-]+)*", host):
                raise UnsafeURL("The URL's host is not a valid name.")
    default_port = 443 if scheme == "https" else 80
    port = port_given if port_given is not None else default_port
    hostname = str(literal) if literal is not None else host
    allowed_hosts = _allowed_hosts()
    allowed = hostname in allowed_hosts or f"{hostname}:{port}" in allowed_hosts
    if literal is not None and not allowed:
        _check_address(literal, raw_host)
    if port not in ALLOWED_PORTS and f"{hostname}:{port}" not in allowed_hosts:
        raise UnsafeURL("Only the standard ports (80 and 443) may be fetched.")
    bracketed = f"[{hostname}]" if ":" in hostname else hostname
    host_header = bracketed if port == default_port else f"{bracketed}:{port}"
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme, hostname, port, path, host_header, literal, allowed)


def validate_url(url: str, *, https_only: bool = False) -> None:
    """Refuse (``UnsafeURL``) what can be refused without the network: a bad scheme, port,
    credentials, or a host written as an unsafe IP address in any notation. The host name
    is resolved and checked again at fetch time (``fetch``)."""
    _parse(url, https_only=https_only)


def _resolve(target: _Target, deadline: float) -> list[IPAddress]:
    """Every address the host resolves to, each checked: one unsafe address refuses the
    whole host (a name that answers both public and private is not trusted)."""
    if target.literal is not None:
        return [target.literal]
    if time.monotonic() >= deadline:
        raise FetchError("Timed out before connecting.")
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"{target.host} could not be resolved.") from exc
    addresses: list[IPAddress] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if family == socket.AF_INET6 and len(sockaddr) >= 4 and sockaddr[3]:
            raise UnsafeURL(f"{target.host} resolves to a scoped IPv6 address.")
        if not target.allowed:
            _check_address(address, target.host)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchError(f"{target.host} has no address.")
    return addresses


# --- connecting to the checked address ----------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, address: IPAddress, port: int, timeout: float) -> None:
        super().__init__(str(address), port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = _connect(self._address, self.port, float(self.timeout or DEFAULT_TIMEOUT))


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, address: IPAddress, port: int, timeout: float, server_hostname: str) -> None:
        self._ssl_context = ssl.create_default_context()
        super().__init__(str(address), port, timeout=timeout, context=self._ssl_context)
        self._address = address
        self._server_hostname = server_hostname

    def connect(self) -> None:
        raw = _connect(self._address, self.port, float(self.timeout or DEFAULT_TIMEOUT))
        # SNI and certificate check against the host name, not the address we pinned.
        self.sock = self._ssl_context.wrap_socket(raw, server_hostname=self._server_hostname)


def _connect(address: IPAddress, port: int, timeout: float) -> socket.socket:
    """A socket connected to exactly ``address`` (no name lookup of any kind)."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((str(address), port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("Timed out.")
    return left


def _one_request(
    target: _Target,
    address: IPAddress,
    *,
    method: str,
    body: bytes | None,
    headers: Mapping[str, str],
    max_bytes: int,
    deadline: float,
) -> tuple[int, dict[str, str], bytes, bool]:
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = _PinnedHTTPSConnection(address, target.port, _remaining(deadline), target.host)
    else:
        conn = _PinnedHTTPConnection(address, target.port, _remaining(deadline))
    try:
        conn.putrequest(method, target.path, skip_host=True, skip_accept_encoding=True)
        sent = {"host": target.host_header, "user-agent": _USER_AGENT}
        sent["accept-encoding"] = "identity"
        sent.update({name.lower(): value for name, value in headers.items()})
        sent["host"] = target.host_header  # never the caller's
        if body is not None:
            sent["content-length"] = str(len(body))
        for name, value in sent.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        if conn.sock is not None:
            conn.sock.settimeout(_remaining(deadline))
        response = conn.getresponse()
        response_headers = {name.lower(): value for name, value in response.getheaders()}
        chunks: list[bytes] = []
        size = 0
        truncated = False
        if method != "HEAD":
            while True:
                if conn.sock is not None:
                    conn.sock.settimeout(_remaining(deadline))
                chunk = response.read1(min(_CHUNK, max_bytes - size + 1))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    truncated = True
                    break
        data = b"".join(chunks)[:max_bytes]
        return response.status, response_headers, data, truncated
    except TimeoutError as exc:
        raise FetchError("Timed out.") from exc
    except ssl.SSLError as exc:
        raise FetchError(f"TLS failed: {exc.reason or exc}.") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"The request failed: {exc.__class__.__name__}.") from exc
    finally:
        conn.close()


def fetch(
    url: str,
    *,
    method: str = "GET",
    json: Any = None,
    headers: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    https_only: bool = False,
) -> FetchResult:
    """Fetch ``url`` safely (see the module docstring). ``UnsafeURL`` when a URL (the given
    one or a redirect) may not be fetched, ``FetchError`` when the fetch fails (including
    more than ``MAX_REDIRECTS`` redirects or the ``timeout`` deadline passing)."""
    import json as jsonlib

    deadline = time.monotonic() + timeout
    method = method.upper()
    body: bytes | None = None
    sent_headers = dict(headers or {})
    if json is not None:
        body = jsonlib.dumps(json).encode()
        sent_headers.setdefault("Content-Type", "application/json")
    redirects: list[str] = []
    current = url
    while True:
        target = _parse(current, https_only=https_only)
        addresses = _resolve(target, deadline)
        last_error: FetchError | None = None
        result: tuple[int, dict[str, str], bytes, bool] | None = None
        for address in addresses:
            try:
                result = _one_request(
                    target,
                    address,
                    method=method,
                    body=body,
                    headers=sent_headers,
                    max_bytes=max_bytes,
                    deadline=deadline,
                )
                break
            except FetchError as exc:
                last_error = exc
                if time.monotonic() >= deadline:
                    break
        if result is None:
            raise last_error or FetchError("The request failed.")
        status, response_headers, data, truncated = result
        location = response_headers.get("location")
        if status not in REDIRECT_STATUSES or not location:
            return FetchResult(status, response_headers, data, current, truncated, redirects)
        if len(redirects) >= MAX_REDIRECTS:
            raise FetchError(f"Too many redirects (more than {MAX_REDIRECTS}).")
        previous_host = target.host_header
        current = urljoin(current, location)
        redirects.append(current)
        if urlsplit(current).netloc.lower() != previous_host:
            # Credentials never follow a redirect to another host.
            sent_headers = {
                name: value
                for name, value in sent_headers.items()
                if name.lower() not in ("authorization", "cookie", "proxy-authorization")
            }
        if status == 303 or (status in (301, 302) and method == "POST"):
            method, body = ("HEAD" if method == "HEAD" else "GET"), None
            sent_headers = {
                name: value
                for name, value in sent_headers.items()
                if name.lower() not in ("content-type", "content-length")
            }
