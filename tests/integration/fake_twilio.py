"""A local HTTP server that speaks enough of Twilio's Messages API for the real SDK.

POST /2010-04-01/Accounts/{sid}/Messages.json   create (201 JSON with a sid)
GET  /2010-04-01/Accounts/{sid}/Messages/{sid}.json   fetch one
GET  /2010-04-01/Accounts/{sid}/Messages.json?To=...  list, newest first

Programmable: `script` holds what the next creates answer (e.g. 500 then 201, 429, a Twilio
error code 21610/21211/21614), `delay` slows every answer, `hold()` makes the next create
record the message and then wait until released (to kill a worker mid-request), and
`callbacks` posts signed status callbacks to each message's StatusCallback URL. A callback
that fails (no answer, or not a 2xx) is recorded in `callback_errors` and reported on stderr;
`check_callbacks()` raises if there was any, so a lost callback fails the test that lost it.

Run alone for the benchmark: python tests/integration/fake_twilio.py --delay 0.15
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import re
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-twilio-auth-token"
CREATE = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages\.json$")
FETCH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages/(?P<sid>SM\w+)\.json$")
ERRORS = {
    21610: "Attempt to send to unsubscribed recipient",
    21211: "Invalid 'To' Phone Number",
    21614: "'To' number is not a valid mobile number",
}


@dataclass
class Answer:
    """What one create request gets: an HTTP status and, for 4xx, a Twilio error code."""

    status: int = 201
    code: int | None = None


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    delay: float = 0.0
    callbacks: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)
    callback_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks = threading.Condition()  # guards the two below
        self._callbacks_in_flight = 0
        self._stopped = False
        self._ids = itertools.count(1)
        self._hold_armed = False
        self.held = threading.Event()  # set when a held request has been received
        self._release = threading.Event()
        self.server: ThreadingHTTPServer | None = None

    # -- control from tests
    def fail_next(self, *answers: Answer) -> None:
        with self._lock:
            self.script.extend(answers)

    def hold(self) -> None:
        """The next create is recorded, then not answered until `release()`."""
        self._hold_armed = True
        self.held.clear()
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    def sent_to(self, number: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages if m["to"] == number]

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeTwilio:
        fake = self

        class Handler(_Handler):
            twilio = fake

        self.server = _Server((host, port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self, callback_wait: float = 15.0) -> None:
        """Stop serving, and wait for callbacks already on their way (none start after)."""
        self._release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        with self._callbacks:
            self._stopped = True
            if not self._callbacks.wait_for(
                lambda: self._callbacks_in_flight == 0, timeout=callback_wait
            ):
                self.callback_errors.append(
                    f"{self._callbacks_in_flight} callback(s) still unanswered after "
                    f"{callback_wait}s"
                )

    def check_callbacks(self) -> None:
        """Raise if any status callback failed: the app must accept every one of them."""
        if self.callback_errors:
            raise AssertionError(
                "status callbacks failed:\n" + "\n".join(f"  {e}" for e in self.callback_errors)
            )

    # -- behaviour
    def create(self, form: dict[str, str]) -> tuple[int, dict[str, Any], bool]:
        with self._lock:
            answer = self.script.pop(0) if self.script else Answer()
            self.requests.append({"form": form, "status": answer.status, "at": time.time()})
            if answer.status != 201:
                code = answer.code
                body = {
                    "code": code or answer.status * 100,
                    "message": ERRORS.get(code or 0, "Simulated failure"),
                    "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": answer.status,
                }
                return answer.status, body, False
            now = datetime.now(UTC)
            message = {
                "sid": f"SM{next(self._ids):032x}",
                "account_sid": self.account_sid,
                "to": form.get("To", ""),
                "from": form.get("From") or "+15005550006",
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "body": form.get("Body", ""),
                "status": "queued",
                "direction": "outbound-api",
                "num_segments": "1",
                "date_created": format_datetime(now, usegmt=True),
                "date_updated": format_datetime(now, usegmt=True),
                "date_sent": None,
                "error_code": None,
                "error_message": None,
                "price": None,
                "api_version": "2010-04-01",
                "status_callback": form.get("StatusCallback"),
            }
            message["uri"] = (
                f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message['sid']}.json"
            )
            self.messages.append(message)
            hold, self._hold_armed = self._hold_armed, False
        return 201, message, hold

    def post_callback(self, message: dict[str, Any], status: str) -> None:
        from twilio.request_validator import RequestValidator

        url = message.get("status_callback")
        if not url:
            return
        params = {"MessageSid": message["sid"], "MessageStatus": status, "To": message["to"]}
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        request = urllib.request.Request(  # loopback test server only
            url,
            data=urlencode(params).encode(),
            headers={"X-Twilio-Signature": signature},
            method="POST",
        )
        with self._callbacks:
            if self._stopped:
                return
            self._callbacks_in_flight += 1
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except OSError as error:  # no answer, or an HTTPError (any non-2xx answer)
            detail = f"{status!r} callback for {message['sid']} to {url} failed: {error!r}"
            sys.stderr.write(f"fake Twilio: {detail}\n")
            with self._callbacks:
                self.callback_errors.append(detail)
        finally:
            with self._callbacks:
                self._callbacks_in_flight -= 1
                self._callbacks.notify_all()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 resets connections when dozens of sends arrive at once.
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client killed mid-request (the point of some tests) is not an error


class _Handler(BaseHTTPRequestHandler):
    twilio: FakeTwilio
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _authorized(self, account: str) -> bool:
        expected = base64.b64encode(
            f"{self.twilio.account_sid}:{self.twilio.auth_token}".encode()
        ).decode()
        return account == self.twilio.account_sid and self.headers.get("Authorization", "") == (
            f"Basic {expected}"
        )

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client died while we held its answer

    def do_POST(self) -> None:
        path = urlparse(self.path).path
        match = CREATE.match(path)
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if not match:
            self._send(404, {"status": 404, "message": "not found"})
            return
        if not self._authorized(match["account"]):
            self._send(401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        status, body, hold = self.twilio.create(form)
        if hold:
            self.twilio.held.set()
            self.twilio._release.wait(timeout=60)
        if self.twilio.delay:
            time.sleep(self.twilio.delay)
        self._send(status, body)
        if status == 201 and self.twilio.callbacks:
            for state in ("sent", "delivered"):
                self.twilio.post_callback(body, state)

    def do_GET(self) -> None:
        parsed = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        fetch = FETCH.match(parsed.path)
        listing = CREATE.match(parsed.path)
        match = fetch or listing
        if not match:
            self._send(404, {"status": 404, "message": "not found"})
            return
        if not self._authorized(match["account"]):
            self._send(401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        with self.twilio._lock:
            messages = list(self.twilio.messages)
        if fetch:
            found = [m for m in messages if m["sid"] == fetch["sid"]]
            if not found:
                self._send(404, {"code": 20404, "message": "not found", "status": 404})
            else:
                self._send(200, found[0])
            return
        if "To" in query:
            messages = [m for m in messages if m["to"] == query["To"]]
        size = int(query.get("PageSize", 50))
        page = list(reversed(messages))[:size]
        self._send(
            200,
            {
                "messages": page,
                "page": 0,
                "page_size": size,
                "first_page_uri": parsed.path,
                "next_page_uri": None,
                "previous_page_uri": None,
                "uri": self.path,
                "start": 0,
                "end": len(page),
            },
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    fake = FakeTwilio(delay=args.delay).start(port=args.port)
    print(f"fake Twilio at {fake.url} (account {fake.account_sid}, token {fake.auth_token})")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
