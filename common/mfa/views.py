"""The second-factor pages: set up an authenticator app, and enter a code."""

from __future__ import annotations

import django_otp
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from common.limits import limit_posts
from common.mfa import services


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("after-login")


def _signed_in_with(request: HttpRequest, device: object) -> None:
    django_otp.login(request, device)
    request.session.cycle_key()  # a new session id once the second factor is in


@never_cache
@login_required
@limit_posts("mfa", "LOGIN_RATE_LIMIT")
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app (replacing any earlier one once signed in with it)."""
    user = request.user
    if django_otp.user_has_device(user, confirmed=True) and not user.is_verified():  # type: ignore[union-attr]
        return HttpResponseRedirect(reverse("mfa-verify") + "?" + request.GET.urlencode())
    device = services.start_enrolment(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.confirm_enrolment(device=device, code=form.cleaned_data["code"])
        if codes is not None:
            _signed_in_with(request, device)
            return render(
                request,
                "registration/mfa_recovery_codes.html",
                {"codes": codes, "next": _next(request)},
            )
        form.add_error("code", "That code did not match. Check the app's clock and try again.")
    return render(
        request,
        "registration/mfa_setup.html",
        {
            "form": form,
            "otpauth_uri": device.config_url,
            "secret": services.secret_of(device),
            "next": _next(request),
        },
    )


@never_cache
@login_required
@limit_posts("mfa", "LOGIN_RATE_LIMIT")
def verify(request: HttpRequest) -> HttpResponse:
    """Enter a code from the authenticator app, or a recovery code."""
    user = request.user
    if not django_otp.user_has_device(user, confirmed=True):
        return HttpResponseRedirect(reverse("mfa-setup") + "?" + request.GET.urlencode())
    if user.is_verified():  # type: ignore[union-attr]
        return HttpResponseRedirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.verify_second_factor(user=user, code=form.cleaned_data["code"])
        if device is not None:
            _signed_in_with(request, device)
            return HttpResponseRedirect(_next(request))
        form.add_error("code", "That code did not work. Wait for a new one and try again.")
    return render(request, "registration/mfa_verify.html", {"form": form, "next": _next(request)})
