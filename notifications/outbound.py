"""Outbound HTTP to addresses other people chose (webhook endpoints), refusing SSRF.

A URL is checked when it is registered and again at every send, after DNS resolution: the
connection goes to the very address that was checked (no second lookup a rebinding DNS
server could answer differently), and redirects are never followed. Loopback, private,
link-local (cloud metadata at 169.254.169.254), shared, multicast and reserved addresses
are refused unless settings.WEBHOOK_ALLOW_PRIVATE_HOSTS (development and tests).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class OutboundRefused(Exception):
    """The URL may not be called; `message` says why, without echoing any response."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse_url(url: str) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise OutboundRefused("The URL must start with https:// (or http://).")
    if parts.username or parts.password:
        raise OutboundRefused("The URL may not carry a user name or password.")
    host = parts.hostname or ""
    if not host:
        raise OutboundRefused("The URL has no host.")
    if parts.scheme == "http" and not settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
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


def resolve(target: Target) -> list[str]:
    """Every address the host resolves to; refused unless each one is public."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused(f"The host {target.host} does not resolve.") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise OutboundRefused(f"The host {target.host} does not resolve.")
    if not settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        for address in addresses:
            if not is_public_address(address):
                raise OutboundRefused(
                    f"The host {target.host} resolves to a private or reserved address."
                )
    return addresses


def check_url(url: str) -> Target:
    """Registration time: the shape and, now, where the host points."""
    target = parse_url(url)
    resolve(target)
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


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST to a checked address; return the HTTP status (a redirect is just a status).

    Raises OutboundRefused for a refused URL, OSError/HTTPException for network failures.
    """
    target = parse_url(url)
    address = resolve(target)[0]
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, address, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # drain a little; the body is never stored
        return response.status
    finally:
        connection.close()
