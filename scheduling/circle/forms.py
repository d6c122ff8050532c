"""Forms of the patient's care-circle page."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms

from scheduling.circle.support import MAX_DAYS


class ContactForm(forms.Form):
    quiet_from = forms.TimeField(
        label="No texts from", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    quiet_until = forms.TimeField(
        label="until", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    texts_ok = forms.BooleanField(label="Texts are OK (untick for email only)", required=False)
    discreet_names = forms.BooleanField(
        label="Leave my provider's name out of texts, emails and calendar entries",
        required=False,
    )
    preferred_name = forms.CharField(
        label="The name you would like us to use", max_length=60, required=False
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if (data.get("quiet_from") is None) != (data.get("quiet_until") is None):
            raise forms.ValidationError("Give both times of the quiet hours, or neither.")
        if data.get("quiet_from") is not None and data["quiet_from"] == data["quiet_until"]:
            raise forms.ValidationError("The quiet hours must end at another time.")
        return data


class SupportPersonForm(forms.Form):
    name = forms.CharField(label="Their name", max_length=80)
    phone = forms.CharField(
        label="Their mobile number",
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    relationship = forms.CharField(
        label="Who they are to you (for example: sister, friend, sponsor)", max_length=40
    )
    until = forms.DateField(
        label="Until (at most one year)", widget=forms.DateInput(attrs={"type": "date"})
    )
    consent = forms.BooleanField(
        label=(
            "I agree that Bridgeway texts this person reminders of my visits and groups "
            "(date and time only, never who or what kind of visit), to help me get to "
            "them, until the date above. I can withdraw this here at any time."
        )
    )

    def __init__(self, *args: object, today: date, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.today = today
        self.fields["until"].widget.attrs.update(
            min=(today + timedelta(days=1)).isoformat(),
            max=(today + timedelta(days=MAX_DAYS - 1)).isoformat(),
        )

    def clean_until(self) -> date:
        until: date = self.cleaned_data["until"]
        if until <= self.today or until >= self.today + timedelta(days=MAX_DAYS):
            raise forms.ValidationError("Choose a date after today and within one year.")
        return until
