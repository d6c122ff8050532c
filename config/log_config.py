"""The LOGGING dict: every record passes a handler that redacts link tokens
(common.redaction); Django's own loggers are routed here too, instead of its defaults (which
would also mail whole requests to ADMINS). `log_format="json"`: one JSON object a line
(python-json-logger) with the request id (common.request_ids); plain text otherwise."""

from __future__ import annotations

from typing import Any


def logging_config(*, log_format: str, level: str, q_level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "redact_secrets": {"()": "common.redaction.RedactSecretsFilter"},
            "request_id": {"()": "common.request_ids.RequestIdFilter"},
        },
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
            "server": {
                "()": "django.utils.log.ServerFormatter",
                "format": "[{server_time}] {message}",
                "style": "{",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if log_format == "json" else "plain",
                "filters": ["redact_secrets", "request_id"],
            },
            "server": {
                "class": "logging.StreamHandler",
                "formatter": "server",
                "filters": ["redact_secrets"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
            "django-q": {"level": q_level},
        },
    }
