"""Forms of the patient pages and the provider portal: shape and wording of input only."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from common.phones import to_e164
from common.states import STATE_CHOICES
from scheduling.availability.windows import parse_windows
from scheduling.models import (
    DateOverride,
    Insurance,
    Language,
    Provider,
    ProviderKind,
    Specialty,
    TimeOff,
    WeeklyHours,
)

# A field below is named `date`; annotations inside that class use this name for the type.
LocalDate = date

STATE_FIELD_CHOICES = [("", _("Choose a state or territory")), *STATE_CHOICES]


def parse_start(value: str) -> datetime | None:
    """An ISO datetime with an offset, as the slot picker writes it; None if it is not one."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


class StateForm(forms.Form):
    state = forms.ChoiceField(
        label=_("Where are you located?"),
        choices=STATE_FIELD_CHOICES,
        help_text=_(
            "The state you will be in during the visit. Providers can only see people "
            "in states where they are licensed."
        ),
        error_messages={"required": _("Choose the state you will be in during the visit.")},
    )


class FindForm(StateForm):
    kind = forms.ChoiceField(
        label=_("Type of provider"),
        required=False,
        choices=[("", _("Any type")), *ProviderKind.choices],
    )
    specialty = forms.ModelChoiceField(
        label=_("Focus"),
        required=False,
        queryset=Specialty.objects.all(),
        to_field_name="slug",
        empty_label=_("Any focus"),
    )
    insurance = forms.ModelChoiceField(
        label=_("Insurance"),
        required=False,
        queryset=Insurance.objects.all(),
        to_field_name="slug",
        empty_label=_("Any or none"),
    )
    language = forms.ModelChoiceField(
        label=_("Language"),
        required=False,
        queryset=Language.objects.all(),
        to_field_name="code",
        empty_label=_("Any language"),
    )
    modality = forms.ChoiceField(
        label=_("Video or phone"),
        required=False,
        choices=[("", _("Either")), ("video", _("Video")), ("phone", _("Phone"))],
    )
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[("", _("Soonest opening first")), ("name", _("By name"))],
    )


class BookForm(forms.Form):
    name = forms.CharField(
        label=_("Your name"),
        max_length=160,
        error_messages={"required": _("Enter your name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone number"),
        max_length=32,
        help_text=_("For your confirmation and reminders. Example: 555-123-4567"),
        error_messages={"required": _("Enter a mobile number so we can reach you.")},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
    )
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        help_text=_("We send a calendar invite here."),
        error_messages={
            "invalid": _("Enter an email address like name@example.com, or leave it empty.")
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    state = forms.ChoiceField(
        label=_("State you will be in during the visit"),
        choices=STATE_FIELD_CHOICES,
        error_messages={"required": _("Choose the state you will be in during the visit.")},
    )
    sms_consent = forms.BooleanField(
        label=_(
            "Yes, text me about this appointment (confirmation and reminders). "
            "Messages do not say what the visit is about. Reply STOP at any time to stop. "
            "Message and data rates may apply."
        ),
        required=False,
    )
    # A recurring series, where the service allows it (the page hides these otherwise).
    repeat = forms.ChoiceField(
        label=_("Repeat"),
        required=False,
        choices=[("", _("Just this visit")), ("1", _("Every week")), ("2", _("Every 2 weeks"))],
    )
    count = forms.IntegerField(
        label=_("Number of visits"),
        required=False,
        min_value=2,
        max_value=26,
        help_text=_("2 to 26 visits, at this same time."),
        error_messages={"min_value": _("At least 2 visits."), "max_value": _("At most 26 visits.")},
    )
    start = forms.CharField(widget=forms.HiddenInput)
    tz = forms.CharField(widget=forms.HiddenInput)
    # One value per form shown: a second submit of the same form finds the first booking.
    attempt = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)

    def clean_phone(self) -> str:
        phone = to_e164(self.cleaned_data["phone"])
        if phone is None:
            raise forms.ValidationError(
                _("Enter a mobile number with its area code, like 555-123-4567.")
            )
        return phone

    def for_group(self) -> BookForm:
        """A group seat needs only a first name or an alias (no one else in the group sees
        it); email stays optional, as for every booking."""
        name = self.fields["name"]
        name.label, name.help_text = "First name or alias", "Only the facilitator sees it."
        name.error_messages["required"] = "Enter a first name or an alias."
        name.widget.attrs["autocomplete"] = "given-name"
        return self

    def clean_start(self) -> datetime:
        moment = parse_start(self.cleaned_data["start"])
        if moment is None:
            raise forms.ValidationError(_("Pick a time from the list."))
        return moment

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("repeat") and not data.get("count"):
            self.add_error("count", _("Enter how many visits (2 to 26)."))
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=500,
        help_text=_("Only the provider sees this."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ProviderCancelForm(CancelForm):
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=500,
        help_text="Kept in this appointment's history. The patient's text does not include it.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RescheduleForm(forms.Form):
    start = forms.CharField(widget=forms.HiddenInput)

    def clean_start(self) -> datetime:
        moment = parse_start(self.cleaned_data["start"])
        if moment is None:
            raise forms.ValidationError("Pick a time from the list.")
        return moment


# Provider portal: availability


class WeeklyHoursForm(forms.ModelForm):
    class Meta:
        model = WeeklyHours
        fields = ["weekday", "start", "end"]
        labels = {"weekday": "Day", "start": "From", "end": "Until"}
        widgets = {
            "start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args: Any, provider: Provider, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.provider = provider

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start: time | None = data.get("start")
        end: time | None = data.get("end")
        weekday = data.get("weekday")
        if start and end:
            if end <= start:
                self.add_error("end", "The end must be after the start.")
            elif weekday is not None:
                clash = WeeklyHours.objects.filter(
                    provider=self.instance.provider, weekday=weekday, start__lt=end, end__gt=start
                ).exclude(pk=self.instance.pk)
                if clash.exists():
                    self.add_error(
                        "start", "These hours overlap hours you already have on that day."
                    )
        return data


class DateOverrideForm(forms.Form):
    date = forms.DateField(
        label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    windows = forms.CharField(
        label="Hours that day",
        required=False,
        max_length=200,
        help_text="Like 10:00-12:00, 13:00-15:00. Leave empty to be closed all day.",
    )

    def __init__(self, *args: Any, provider: Provider, today: LocalDate, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.provider = provider
        self.today = today

    def clean_date(self) -> LocalDate:
        day: LocalDate = self.cleaned_data["date"]
        if day < self.today:
            raise forms.ValidationError("Choose today or a later date.")
        return day

    def clean_windows(self) -> list[dict[str, str]]:
        text = self.cleaned_data["windows"].strip()
        windows: list[dict[str, str]] = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            start, sep, end = part.partition("-")
            if not sep:
                raise forms.ValidationError(f"“{part}” is not like 10:00-12:00.")
            windows.append({"start": start.strip(), "end": end.strip()})
        try:
            parsed = parse_windows(windows)
        except ValueError as exc:
            raise forms.ValidationError(
                "Write each window as start-end in 24-hour time, like 09:00-12:00, "
                f"with no overlaps ({exc})."
            ) from exc
        return [{"start": f"{s:%H:%M}", "end": f"{e:%H:%M}"} for s, e in parsed]

    def save(self) -> DateOverride:
        override, _ = DateOverride.objects.update_or_create(
            provider=self.provider,
            date=self.cleaned_data["date"],
            defaults={"windows": self.cleaned_data["windows"]},
        )
        return override


class TimeOffForm(forms.Form):
    start = forms.DateTimeField(
        label="Time off starts",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    end = forms.DateTimeField(
        label="Time off ends",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    note = forms.CharField(label="Note (only you see it)", required=False, max_length=200)

    def __init__(self, *args: Any, provider: Provider, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.provider = provider
        self.now = now
        self.zone = ZoneInfo(provider.timezone)

    def _in_provider_zone(self, field: str) -> datetime | None:
        value: datetime | None = self.cleaned_data.get(field)
        if value is None:
            return None
        # The browser sends wall-clock time; it means the provider's zone, not the server's.
        return value.replace(tzinfo=None).replace(tzinfo=self.zone)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start = self._in_provider_zone("start")
        end = self._in_provider_zone("end")
        if start and end:
            if end <= start:
                self.add_error("end", "The end must be after the start.")
            elif end <= self.now:
                self.add_error("end", "This time off is already over.")
            data["start"], data["end"] = start, end
        return data

    def save(self) -> TimeOff:
        return TimeOff.objects.create(
            provider=self.provider,
            start=self.cleaned_data["start"],
            end=self.cleaned_data["end"],
            note=self.cleaned_data["note"],
        )


class CalendarSourceForm(forms.Form):
    """A calendar whose busy times block the provider's slots (checked by sync.add_source)."""

    kind = forms.ChoiceField(
        label="Kind of calendar",
        choices=[
            ("ical_url", "A secret iCal address (Google, Outlook, iCloud public link)"),
            ("caldav", "CalDAV with an app password (iCloud, Fastmail, Nextcloud)"),
        ],
        initial="ical_url",
        widget=forms.RadioSelect,
    )
    url = forms.CharField(
        label="Calendar address",
        max_length=2000,
        help_text="Starts with https:// or webcal://. Bridgeway reads only busy times.",
    )
    name = forms.CharField(label="Label (only you see it)", required=False, max_length=120)
    username = forms.CharField(label="CalDAV user name", required=False, max_length=200)
    password = forms.CharField(
        label="CalDAV app password",
        required=False,
        max_length=500,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Make an app password for Bridgeway in your calendar account; "
        "it is stored encrypted and never shown again.",
    )
