"""The code step of the booking form: phone -> texted code -> booked, without JavaScript.

A browser session keeps the proof for the numbers it has verified (the token, stored
server-side), so a second booking within the proof's life needs no second code.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from common.errors import DomainError
from common.limits import client_address
from notifications import verification
from scheduling.web.helpers import add_domain_error

PROOFS_KEY = "bw_phone_proofs"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=12,
        error_messages={"required": _("Enter the 6-digit code from the text.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]*",
                "maxlength": "6",
            }
        ),
    )
    verification = forms.CharField(widget=forms.HiddenInput, max_length=40)


def proof_key(phone: str) -> str:
    # Sessions are stored server-side; still, keep the number itself out of them.
    return hashlib.sha256(phone.encode()).hexdigest()[:32]


def session_proves(request: HttpRequest, phone: str) -> bool:
    """Whether this browser proved possession of `phone` recently."""
    token = request.session.get(PROOFS_KEY, {}).get(proof_key(phone))
    return verification.proves(token, phone)


def start(request: HttpRequest, phone: str) -> str:
    """Text a code to `phone`; the verification id the code step posts back."""
    return str(verification.start_verification(phone=phone, client=client_address(request)).id)


def check(request: HttpRequest, phone: str, form: CodeForm) -> bool:
    """Check the posted code; on success remember the proof in the session."""
    if not form.is_valid():
        return False
    try:
        token = verification.check_code(
            verification_id=form.cleaned_data["verification"],
            code=form.cleaned_data["code"],
            client=client_address(request),
        )
    except DomainError as error:
        form.add_error("code", error.detail)
        return False
    if verification.verified_phone(token) != phone:
        form.add_error("code", _("That code was sent to another number."))
        return False
    proofs: dict[str, Any] = dict(request.session.get(PROOFS_KEY, {}))
    proofs[proof_key(phone)] = token
    request.session[PROOFS_KEY] = dict(list(proofs.items())[-5:])
    return True


def send_code(
    request: HttpRequest, page: dict[str, Any], form: forms.Form, *, form_template: str
) -> HttpResponse:
    """Text a code to the number in the form and ask for it; the same page for every number.
    A refused number shows `form_template` again with the error on the phone field."""
    try:
        verification_id = start(request, form.cleaned_data["phone"])
    except DomainError as error:
        add_domain_error(form, error, field_names={"patient": "phone"})
        return render(request, form_template, page, status=error.status)
    return code_step(request, page, CodeForm(initial={"verification": verification_id}))


def code_step(
    request: HttpRequest, page: dict[str, Any], code_form: CodeForm, *, status: int = 200
) -> HttpResponse:
    """The page that asks for the texted code (scheduling/verify.html)."""
    phone = page["form"].cleaned_data["phone"]
    context = {**page, "code_form": code_form, "phone_end": phone[-4:]}
    return render(request, "scheduling/verify.html", context, status=status)
