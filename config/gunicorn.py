"""gunicorn settings for the web containers: `gunicorn -c python:config.gunicorn
config.wsgi:application` (Dockerfile). Access lines go to stdout with link tokens
redacted (common.access_log)."""

from __future__ import annotations

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = "-"
logger_class = "common.access_log.RedactingLogger"
