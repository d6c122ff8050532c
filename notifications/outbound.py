"""Outbound HTTP to addresses other people chose (webhooks, external calendars), refusing SSRF.

A URL is checked when it is registered and again at every send, after DNS resolution: the
connection goes to the very address that was checked (no second lookup a rebinding DNS
server could answer differently), and redirects are never followed. Loopback, private,
link-local (cloud metadata at 169.254.169.254), shared, multicast and reserved addresses
are refused unless the caller allows them: `allow_private` defaults to
settings.WEBHOOK_ALLOW_PRIVATE_HOSTS; calendars pass settings.CALENDAR_ALLOW_PRIVATE_HOSTS
(development and tests). `get` bounds both the size of the answer and the whole time taken.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.conf import settings


class OutboundRefused(Exception):
    """The URL may not be called; `message` says why, without echoing any response."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ResponseTooLarge(Exception):
    """The answer is larger than the caller's bound."""


def _private_allowed(allow_private: bool | None) -> bool:
    return settings.WEBHOOK_ALLOW_PRIVATE_HOSTS if allow_private is None else allow_private


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse_url(url: str, *, allow_private: bool | None = None) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise OutboundRefused("The URL must start with https:// (or http://).")
    if parts.username or parts.password:
        raise OutboundRefused("The URL may not carry a user name or password.")
    host = parts.hostname or ""
    if not host:
        raise OutboundRefused("The URL has no host.")
    if parts.scheme == "http" and not _private_allowed(allow_private):
        raise OutboundRefused("The URL must use https://.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundRefused("The URL's port is not a number.") from exc
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=parts.scheme, host=host, port=port, path=path)


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(target: Target, *, allow_private: bool | None = None) -> list[str]:
    """Every address the host resolves to; refused unless each one is public."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused(f"The host {target.host} does not resolve.") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise OutboundRefused(f"The host {target.host} does not resolve.")
    if not _private_allowed(allow_private):
        for address in addresses:
            if not is_public_address(address):
                raise OutboundRefused(
                    f"The host {target.host} resolves to a private or reserved address."
                )
    return addresses


def check_url(url: str, *, allow_private: bool | None = None) -> Target:
    """Registration time: the shape and, now, where the host points."""
    target = parse_url(url, allow_private=allow_private)
    resolve(target, allow_private=allow_private)
    return target


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, not the pinned address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    allow_private: bool | None = None,
) -> int:
    """POST to a checked address; return the HTTP status (a redirect is just a status).

    Raises OutboundRefused for a refused URL, OSError/HTTPException for network failures.
    """
    target = parse_url(url, allow_private=allow_private)
    address = resolve(target, allow_private=allow_private)[0]
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, address, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # drain a little; the body is never stored
        return response.status
    finally:
        connection.close()


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names


_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def get(
    url: str,
    *,
    headers: dict[str, str],
    timeout: float,
    max_bytes: int,
    allow_private: bool | None = None,
    max_redirects: int = 3,
) -> Response:
    """GET a checked address, following redirects only to checked addresses.

    `timeout` bounds the whole exchange (a server trickling bytes cannot hold a worker),
    `max_bytes` the body. Raises OutboundRefused, ResponseTooLarge, TimeoutError, or
    OSError/HTTPException for network failures.
    """
    deadline = time.monotonic() + timeout
    for _ in range(max_redirects + 1):
        target = parse_url(url, allow_private=allow_private)
        address = resolve(target, allow_private=allow_private)[0]
        response = _get_once(target, address, headers, deadline, max_bytes)
        location = response.headers.get("location")
        if response.status not in _REDIRECTS or not location:
            return response
        url = urljoin(url, location)
    raise OutboundRefused("Too many redirects.")


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("The answer took too long.")
    return left


def _get_once(
    target: Target, address: str, headers: dict[str, str], deadline: float, max_bytes: int
) -> Response:
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, address, _remaining(deadline))
    try:
        connection.request("GET", target.path, headers=headers)
        # getresponse() hands the socket to the response (connection.sock becomes None).
        sock = connection.sock
        response = connection.getresponse()
        found = {name.lower(): value for name, value in response.getheaders()}
        announced = found.get("content-length", "")
        if announced.isdigit() and int(announced) > max_bytes:
            raise ResponseTooLarge(f"The answer is larger than {max_bytes} bytes.")
        chunks: list[bytes] = []
        size = 0
        while True:
            left = _remaining(deadline)
            if sock is not None:
                sock.settimeout(left)
            chunk = response.read1(64 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise ResponseTooLarge(f"The answer is larger than {max_bytes} bytes.")
            chunks.append(chunk)
        _remaining(deadline)
        return Response(status=response.status, body=b"".join(chunks), headers=found)
    finally:
        connection.close()
