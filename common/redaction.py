"""Secrets out of logs: the link tokens in paths and query strings, replaced wherever a
log line (or an error report) would carry them.

A manage link (/m/<token>), a series link (/s/<token>), a referral link (/r/<token>), a
calendar feed (/calendar/<token>.ics), a password-reset link (/accounts/reset/<uid>/<token>/) and
`?token=` each open a patient's or a provider's details to whoever reads them; Django's
"Not Found: /m/…" warnings and every access-log line would otherwise keep them.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# The paths whose next segment is a secret; the pages under them answer with
# Referrer-Policy: no-referrer (common.headers).
TOKEN_PATH_PREFIXES = ("/m/", "/s/", "/r/", "/calendar/", "/accounts/reset/")
_END = r"?#\s\"'<>"
_PATTERNS = (
    # Only the token segment of /m/, /s/ and /r/ paths: the rest (/booked, /<slug>/book/) stays.
    (re.compile(rf"(/[msr]/)[^/{_END}]+"), rf"\1{REDACTED}"),
    (re.compile(rf"(/calendar/|/accounts/reset/)[^{_END}]+"), rf"\1{REDACTED}"),
    (
        re.compile(rf"((?<![\w-])(?:token|verification|referral_token)=)[^&{_END}]*", re.I),
        rf"\1{REDACTED}",
    ),
    # The same paths percent-encoded, as in ?next=%2Fm%2F<token>.
    (re.compile(r"(%2F(?:[msr]|calendar)%2F)[^&%\s\"'<>]+", re.I), rf"\1{REDACTED}"),
)


def redact_secrets(text: str) -> str:
    """`text` with every link token replaced by [redacted]."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def is_token_path(path: str) -> bool:
    return path.startswith(TOKEN_PATH_PREFIXES)


class RedactSecretsFilter(logging.Filter):
    """A handler filter: the message (arguments merged in) and traceback, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_secrets(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        return True
