"""From a request to an Accessor: the user, the role they act in, their address, agent and
path. Views call `record()`; services never see the request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from common.limits import client_address
from scheduling.audit.services import Accessor, Subject, record_access

# URL parameters that carry a secret: replaced in the logged path.
_SECRET_KWARGS = ("token",)


def logged_path(request: Any) -> str:
    """The request's path with any token in it replaced by <token>; the query is dropped."""
    path = str(getattr(request, "path", ""))
    match = getattr(request, "resolver_match", None)
    for name in _SECRET_KWARGS:
        value = match.kwargs.get(name) if match is not None else None
        if value:
            path = path.replace(str(value), "<token>")
    return path


def accessor_for(
    request: Any, *, channel: str, role: str, organization_id: int | None = None
) -> Accessor:
    address = client_address(request)
    return Accessor(
        channel=channel,
        role=role,
        user=getattr(request, "user", None),
        organization_id=organization_id,
        ip_address=address or None,
        user_agent=str(request.META.get("HTTP_USER_AGENT", "")),
        path=logged_path(request),
    )


def record(
    request: Any,
    *,
    channel: str,
    role: str,
    action: str,
    subjects: Iterable[Subject],
    organization_id: int | None = None,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
) -> int:
    """Log what this request showed or changed (one INSERT); the number of rows."""
    accessor = accessor_for(request, channel=channel, role=role, organization_id=organization_id)
    return record_access(accessor=accessor, action=action, subjects=subjects, changes=changes)
