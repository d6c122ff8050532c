"""Forms of the referral pages."""

from __future__ import annotations

from django import forms


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Or decline: why can’t you see them?",
        max_length=500,
        help_text="The referrer sees this; the patient does not.",
        error_messages={"required": "Say why, so the referrer can find someone else."},
        widget=forms.Textarea(attrs={"rows": 2}),
    )
