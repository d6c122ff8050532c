"""A requests session with outbound.py's rules, for libraries that speak HTTP themselves
(the CalDAV client): addresses others chose, refusing SSRF, bounded in size and time.

Every connection, each redirect's included, is opened by `_GuardedConnection._new_conn`:
the host is resolved once, every address it resolves to must be public (unless
`allow_private`), and the socket goes to the very address checked, so a rebinding DNS
server gets no second answer. The TLS certificate is still checked against the host name.
A timer shuts every socket of the session when its time is up, so a server trickling
bytes cannot hold a worker past `timeout`; each answer's body is read with a size bound.
Proxies, `.netrc` and other environment settings are ignored (a proxy would bypass the
address check).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from notifications import outbound


class Guard:
    """One session's budget: the deadline, the size bound, the sockets it opened and what
    went wrong (the caller turns these into its own error after the library gave up)."""

    def __init__(self, *, allow_private: bool, timeout: float, max_bytes: int) -> None:
        self.allow_private = allow_private
        self.require_https = not allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.deadline = time.monotonic() + timeout
        self.expired = False
        self.too_large = False
        self.refused: outbound.OutboundRefused | None = None
        self.statuses: list[int] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(timeout, self.expire)
        self._timer.daemon = True

    @property
    def failed(self) -> bool:
        """Whether some exchange was cut short (a library may have swallowed the error)."""
        return self.expired or self.too_large or self.refused is not None

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0 or self.expired:
            self.expired = True
            raise TimeoutError("The answer took too long.")
        return left

    def connect(self, host: str, port: int, scheme: str) -> socket.socket:
        target = outbound.Target(scheme=scheme, host=host, port=port, path="/")
        try:
            if scheme != "https" and self.require_https:
                raise outbound.OutboundRefused("The URL must use https://.")
            address = outbound.resolve(target, allow_private=self.allow_private)[0]
        except outbound.OutboundRefused as exc:
            self.refused = exc
            raise
        sock = socket.create_connection((address, port), self.remaining())
        with self._lock:
            self._sockets.append(sock)
        return sock

    def expire(self) -> None:
        """Time is up: cut every connection, whatever is blocked reading from it."""
        self.expired = True
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.cancel()


class _GuardedConnection:
    guard: Guard
    scheme = "http"
    host: str
    port: int

    def _new_conn(self) -> socket.socket:
        return self.guard.connect(self.host.strip("[]"), self.port, self.scheme)


def _pool_classes(guard: Guard) -> dict[str, type[HTTPConnectionPool]]:
    http_connection = type(
        "GuardedHTTPConnection", (_GuardedConnection, HTTPConnection), {"guard": guard}
    )
    https_connection = type(
        "GuardedHTTPSConnection",
        (_GuardedConnection, HTTPSConnection),
        {"guard": guard, "scheme": "https"},
    )
    return {
        "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_connection}),
        "https": type(
            "GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_connection}
        ),
    }


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.guard)

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any
    ) -> requests.Response:
        kwargs["timeout"] = self.guard.remaining()
        response = super().send(request, stream=True, **kwargs)
        self.guard.statuses.append(response.status_code)
        if stream:
            return response
        announced = response.headers.get("content-length", "")
        chunks: list[bytes] = []
        size = 0
        if announced.isdigit() and int(announced) > self.guard.max_bytes:
            size = int(announced)
        else:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > self.guard.max_bytes:
                    break
                chunks.append(chunk)
        if size > self.guard.max_bytes:
            self.guard.too_large = True
            response.close()
            raise outbound.ResponseTooLarge(
                f"The answer is larger than {self.guard.max_bytes} bytes."
            )
        response._content = b"".join(chunks)
        return response


@contextmanager
def guarded_session(
    *, allow_private: bool, timeout: float, max_bytes: int
) -> Iterator[tuple[requests.Session, Guard]]:
    """A session whose connections are checked and whose whole use is bounded by `timeout`."""
    guard = Guard(allow_private=allow_private, timeout=timeout, max_bytes=max_bytes)
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = 3
    adapter = _GuardedAdapter(guard)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    guard.start()
    try:
        yield session, guard
    finally:
        guard.stop()
        session.close()
