"""A real HTTP server publishing one iCalendar file (not a test module): a threading
http.server on a free port with ETag / If-None-Match, and statuses it is told to answer."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class CalendarServer:
    url: str
    body: bytes = b""
    statuses: list[int] = field(default_factory=list)  # answers to come, then the file
    requests: list[dict[str, str]] = field(default_factory=list)
    location: str = ""
    trickle_seconds: float = 0  # send the body a byte at a time over this long

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@contextmanager
def calendar_server(body: bytes = b"") -> Iterator[CalendarServer]:
    server_state = CalendarServer(url="", body=body)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server_state.requests.append(dict(self.headers.items()))
            status = server_state.statuses.pop(0) if server_state.statuses else 200
            if status == 200 and self.headers.get("If-None-Match") == server_state.etag:
                status = 304
            payload = server_state.body if status == 200 else b""
            self.send_response(status)
            if server_state.location:
                self.send_header("Location", server_state.location)
            self.send_header("ETag", server_state.etag)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if not server_state.trickle_seconds:
                self.wfile.write(payload)
                return
            pause = server_state.trickle_seconds / max(len(payload), 1)
            for i in range(len(payload)):
                self.wfile.write(payload[i : i + 1])
                self.wfile.flush()
                time.sleep(pause)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{server.server_address[1]}/calendar.ics"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()
