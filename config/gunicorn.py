"""gunicorn settings for the web containers: `gunicorn -c python:config.gunicorn
config.wsgi:application` (Dockerfile). Access lines go to stdout with link tokens
redacted (common.access_log).

gunicorn is meant to sit behind a buffering reverse proxy (deploy/nginx.conf, the `proxy`
service in docker-compose.yml): the proxy reads slow clients' headers and bodies with its
own timeouts, so a client that announces a body and never sends it holds an nginx
connection, not one of these threads. The limits below are gunicorn's own last line.
"""

from __future__ import annotations

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A request that takes longer than this is killed with its worker (and logged).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Idle keep-alive connections are closed after this many seconds.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Request line and headers: an answer of 400 beyond these (the proxy answers 414/400 first
# with the same limits). No URL of Bridgeway needs more than a few hundred characters.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
logger_class = "common.access_log.RedactingLogger"


def child_exit(server: object, worker: object) -> None:
    """prometheus-client's multiprocess mode: drop a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
