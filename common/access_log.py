"""gunicorn's logger with link tokens redacted from access and error lines (the request
line, the Referer, the query string). config/gunicorn.py names it."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from common.redaction import RedactSecretsFilter


class RedactingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            if not any(isinstance(f, RedactSecretsFilter) for f in log.filters):
                log.addFilter(RedactSecretsFilter())
