"""Error reports to Sentry (only when SENTRY_DSN is set), scrubbed before they leave.

`scrub_event` is the `before_send`: no name, phone number, email address or link token
reaches Sentry, whatever carried it (the request, a log message, an exception's text,
breadcrumbs, extra data). Keys that name personal fields lose their values; every other
string has phones, emails and tokens replaced. Local variables are never sent.
"""

from __future__ import annotations

import re
from typing import Any

from common.redaction import REDACTED, redact_secrets

FILTERED = "[Filtered]"
# Keys whose values are a person's details or a secret, wherever they appear.
PERSONAL_KEYS = {
    "name",
    "first_name",
    "last_name",
    "full_name",
    "patient_name",
    "referrer_name",
    "username",
    "phone",
    "phone_number",
    "patient_phone",
    "mobile",
    "email",
    "patient_email",
    "referrer_email",
    "recipient",
    "to",
    "from",
    "body",
    "address",
    "ip_address",
    "token",
    "verification",
    "referral_token",
    "password",
    "authorization",
    "cookie",
    "cookies",
    "set-cookie",
    "sessionid",
    "csrftoken",
    "x-csrftoken",
    "data",
}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# +1 212 555 0142, (212) 555-0142, 212.555.0142, +12125550142: 7+ digits with separators.
_PHONE = re.compile(r"(?<![\w/=-])\+?\d[\d\s().-]{6,}\d(?![\w/-])")


def scrub_text(text: str) -> str:
    """`text` without link tokens, email addresses or phone numbers."""
    text = redact_secrets(text)
    text = _EMAIL.sub(REDACTED, text)
    return _PHONE.sub(lambda m: REDACTED if _digits(m.group()) >= 7 else m.group(), text)


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _scrub(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in PERSONAL_KEYS and value not in (None, "", [], {}):
        return FILTERED
    if isinstance(value, dict):
        return {k: _scrub(v, k if isinstance(k, str) else None) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Headers and cookies come as [name, value] pairs.
        if len(value) == 2 and isinstance(value[0], str) and value[0].lower() in PERSONAL_KEYS:
            return [value[0], FILTERED]
        return [_scrub(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


# Parts the SDK writes about itself and the machine, kept as they are.
_STRUCTURAL = {"sdk", "contexts", "modules", "platform", "level", "logger", "event_id"}


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's before_send: the event with every personal detail and token removed."""
    scrubbed = {
        key: value if key in _STRUCTURAL else _scrub(value, key if key != "user" else None)
        for key, value in event.items()
    }
    user = event.get("user")
    if isinstance(user, dict):
        scrubbed["user"] = {"id": user["id"]} if "id" in user else {}
    return scrubbed


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    return scrub_event(crumb, hint)


def init_sentry(dsn: str, *, environment: str, release: str | None = None) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,  # type: ignore[arg-type]
        before_send_transaction=scrub_event,  # type: ignore[arg-type]
        before_breadcrumb=scrub_breadcrumb,  # type: ignore[arg-type]
        traces_sample_rate=0.0,
    )
