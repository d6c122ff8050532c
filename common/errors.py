"""The one domain error type; the API maps it to {"code", "detail", "fields"}."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain refused the request; `status` is the HTTP status to answer."""

    status = 400

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        status: int | None = None,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        if status is not None:
            self.status = status
        self.fields = fields or {}
        self.headers = headers or {}


class NotFound(DomainError):
    status = 404

    def __init__(self, detail: str = "Not found.") -> None:
        super().__init__("not_found", detail)


class Conflict(DomainError):
    status = 409


class InvalidTransition(DomainError):
    """A status change the transitions table does not allow (409 invalid_transition)."""

    status = 409

    def __init__(self, detail: str, *, fields: dict[str, Any] | None = None) -> None:
        super().__init__("invalid_transition", detail, fields=fields)
