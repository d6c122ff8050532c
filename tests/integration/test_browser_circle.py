"""The care circle in a real browser (issue 15): contact choices, a support person named,
refused, named and withdrawn, the disclosures list and /resources/, each page scanned with
axe-core (serious or critical findings fail the test)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Browser, expect

from scheduling.booking import links, services
from scheduling.booking.patients import PatientDetails
from scheduling.circle.models import ContactPreference, SupportPerson, SupportStatus
from tests.factories import ProviderFactory, ServiceFactory
from tests.integration.browser_support import Journey, launch_browser, new_context

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


def booked_token() -> str:
    provider = ProviderFactory(
        name="Dana Whitfield", states=["NY"], hours=[(d, "09:00", "17:00") for d in range(7)]
    )
    service = ServiceFactory(provider=provider, min_notice_hours=0)
    start = (timezone.now() + timedelta(days=3)).replace(hour=15, minute=0, second=0, microsecond=0)
    appointment = services.book_appointment(
        possession=True,
        service=service,
        start=start,
        patient=PatientDetails(
            name="Alex Rivera", phone="+12125550142", timezone="America/New_York", state="NY"
        ),
        sms_consent=True,
    )
    return links.manage_token(appointment)


def test_a_patient_sets_contact_choices_names_and_withdraws_a_support_person(
    live_server, browser: Browser
):
    import_module("scheduling.migrations.0015_seed_resources").seed(apps, None)
    journey = Journey("care-circle")
    token = booked_token()
    page = new_context(browser).new_page()

    page.goto(f"{live_server.url}/m/{token}")
    page.get_by_role("link", name="Who we text, and when").click()
    expect(page.get_by_role("heading", name="Who we text, and when")).to_be_visible()
    journey.check(page, "circle page")

    page.get_by_label("No texts from").fill("22:00")
    page.get_by_label("until").first.fill("08:00")
    page.get_by_label("Leave my provider's name out").check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_text("Your contact choices are saved")).to_be_visible()
    pref = ContactPreference.objects.get()
    assert (pref.quiet_from.hour, pref.quiet_until.hour, pref.discreet_names) == (22, 8, True)

    page.get_by_label("Their name").fill("Jo Rivera")
    page.get_by_label("Their mobile number").fill("212 555 0199")
    page.get_by_label("Who they are to you").fill("sister")
    page.get_by_label("Until (at most one year)").fill(
        (timezone.now() + timedelta(days=30)).date().isoformat()
    )
    page.get_by_role("button", name="Ask them to agree").click()
    expect(page.get_by_text("This field is required")).to_be_visible()  # the consent box
    journey.check(page, "support person form with an error")

    page.get_by_label("I agree that Bridgeway texts this person").check()
    page.get_by_role("button", name="Ask them to agree").click()
    expect(page.get_by_text("We texted them to ask if they agree")).to_be_visible()
    expect(page.get_by_role("cell", name="Request to agree", exact=False)).to_be_visible()
    journey.check(page, "support person named")

    page.get_by_role("button", name="Stop texts to Jo Rivera").click()
    expect(page.get_by_text("Nothing more will be sent to them")).to_be_visible()
    assert SupportPerson.objects.get().status == SupportStatus.REVOKED
    journey.check(page, "support person withdrawn")

    page.get_by_role("link", name="More help and resources").click()
    expect(page.get_by_role("heading", name="Help and resources")).to_be_visible()
    expect(page.get_by_role("link", name="FindTreatment.gov")).to_be_visible()
    expect(page.get_by_role("link", name="1-800-662-4357")).to_be_visible()
    journey.check(page, "resources")
