"""Small helpers shared by the patient pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.http import HttpResponse

from common.errors import DomainError
from common.states import STATES


def state_from(value: object) -> str:
    """A valid USPS code from a query parameter, or ''."""
    code = value.upper() if isinstance(value, str) else ""
    return code if code in STATES else ""


def flatten_fields(fields: dict[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """{"patient": {"phone": ["…"]}} -> {"phone": ["…"]}: the API's nesting, the form's names."""
    flat: dict[str, list[str]] = {}
    for key, value in fields.items():
        if isinstance(value, dict):
            flat.update(flatten_fields(value, prefix))
        else:
            messages = value if isinstance(value, list) else [value]
            flat[key] = [str(m) for m in messages]
    return flat


def add_domain_error(form: forms.Form, error: DomainError, *, field_names: dict[str, str]) -> None:
    """Show a refused request next to the field it is about, else at the top of the form."""
    placed = False
    for name in flatten_fields(error.fields):
        target = field_names.get(name, name)
        if target in form.fields and not form.fields[target].widget.is_hidden:
            form.add_error(target, error.detail)
            placed = True
    if not placed:
        form.add_error(None, error.detail)


def allow_photos(response: HttpResponse, urls: list[str]) -> HttpResponse:
    """Let this page's CSP load the providers' photos from their https:// origins (only)."""
    origins = sorted({f"https://{urlsplit(u).netloc}" for u in urls if u.startswith("https://")})
    if origins:
        response._csp_update = {"img-src": origins}  # type: ignore[attr-defined]
    return response
