"""The patient and provider journeys in a real browser (Debian's chromium) on a live server.

Every page visited is scanned with axe-core (serious or critical findings fail the test) and
photographed phone-sized and desktop-sized under test-output/screenshots/<journey>/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, expect

from common.crypto import blind_index
from notifications.models import Notification
from referrals.models import ReferralStatus
from scheduling.booking.groups import find_groups
from scheduling.calendar import sync
from scheduling.calendar.models import CalendarSource
from scheduling.models import Appointment, AppointmentStatus
from tests.factories import LanguageFactory, ProviderFactory, ServiceFactory, UserFactory
from tests.integration.browser_support import Journey, launch_browser, new_context
from tests.scheduling.calendar_server import calendar_server
from tests.scheduling.referral_helpers import offer_referral
from tests.scheduling.waitlist_helpers import group_service, seat

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


EVERY_DAY = [(d, "09:00", "17:00") for d in range(7)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def service():
    english = LanguageFactory(code="en", name="English")
    provider = ProviderFactory(
        slug="dana-whitfield",
        name="Dana Whitfield",
        credentials="LCSW, CADC",
        states=["NY", "NJ"],
        hours=EVERY_DAY,
        bio="I work with adults and families, by video or phone.",
    )
    provider.languages.add(english)
    return ServiceFactory(provider=provider, slug="intake", name="First visit", duration_minutes=50)


def slot_link(page: Page) -> Locator:
    """An early free time on the picker: the second one when there are two, since the very
    first can fall inside the minimum notice between showing the page and clicking it."""
    links = page.locator(".slots a")
    return links.nth(1) if links.count() > 1 else links.first


def first_slot(page: Page) -> tuple[str, str]:
    """(href, accessible name) of the time slot_link picks."""
    link = slot_link(page)
    return link.get_attribute("href") or "", link.get_attribute("aria-label") or ""


def other_slot(page: Page, *, avoid: str) -> Locator:
    """A free time other than `avoid` on this week's picker, else on the next week's."""
    others = page.locator(f'.slots a:not([aria-label="{avoid}"])')
    if others.count() == 0:
        page.get_by_role("link", name="Later week").click()
    return others.first


def fill_booking_form(page: Page, *, name: str, phone: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Mobile phone number").fill(phone)
    page.get_by_label("Email (optional)").fill("alex@example.net")
    page.get_by_label(re.compile("text me about this appointment")).check()


def enter_texted_code(page: Page, phone: str, journey: Journey | None = None) -> None:
    """The code step: read the code the outbox holds for `phone` and type it in."""
    expect(page.get_by_role("heading", name="Check your phone")).to_be_visible()
    if journey is not None:
        journey.check(page, "code step")
    body = (
        Notification.objects.filter(template="verification_code", recipient_hash=blind_index(phone))
        .latest("id")
        .body
    )
    code = re.search(r"\b(\d{6})\b", body)
    assert code is not None, body
    page.get_by_label("6-digit code").fill(code.group(1))
    page.get_by_role(
        "button", name=re.compile("Book this time|Send request|Join the waitlist")
    ).click()


def test_find_book_confirm_manage_reschedule_and_cancel(live_server, browser: Browser, service):
    journey = Journey("patient-books-moves-cancels")
    context = new_context(browser, timezone_id="America/New_York")
    page = context.new_page()

    page.goto(live_server.url + "/")
    expect(page.get_by_label("Where are you located?")).to_be_visible()
    journey.check(page, "find help")

    page.get_by_label("Where are you located?").select_option("NY")
    page.get_by_role("button", name="Show who can see me").click()
    expect(page.get_by_text("1 provider can see people in New York")).to_be_visible()
    expect(page.get_by_text("Next opening:")).to_be_visible()
    journey.check(page, "search results")

    page.get_by_role("link", name="See times with Dana Whitfield").click()
    expect(page.get_by_role("heading", name=re.compile("^Week of"))).to_be_visible()
    expect(page.get_by_label("Times are shown in")).to_have_value("America/New_York")
    journey.check(page, "provider page and picker")

    href, when = first_slot(page)
    slot_link(page).click()
    expect(page.get_by_text(when)).to_be_visible()
    journey.check(page, "booking form")

    # Errors appear next to their fields, and nothing is booked.
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("Enter your name.", exact=True)).to_be_visible()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name=re.compile("Your name")).click()
    expect(page.get_by_label("Your name")).to_be_focused()
    journey.check(page, "booking form with errors")
    assert Appointment.objects.count() == 0

    fill_booking_form(page, name="Alex Rivera", phone="212-555-0142")
    page.get_by_role("button", name="Book this time").click()
    enter_texted_code(page, "+12125550142", journey)
    expect(page.get_by_text("You’re booked.")).to_be_visible()
    expect(page.get_by_role("heading", name=when)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Video visit link"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Download calendar file"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Add to Google Calendar"))).to_be_visible()
    journey.check(page, "confirmation")
    appointment = Appointment.objects.get()
    assert appointment.patient.sms_consent is True

    page.get_by_role("link", name="See or change this appointment").click()
    expect(page.get_by_role("heading", name="Your appointment")).to_be_visible()
    journey.check(page, "manage page")

    page.get_by_role("link", name="Choose a new time").click()
    expect(page.get_by_role("heading", name="Choose a new time")).to_be_visible()
    journey.check(page, "reschedule picker")
    later = other_slot(page, avoid=when)
    new_when = later.get_attribute("aria-label") or ""
    later.click()
    expect(page.get_by_text(new_when)).to_be_visible()
    journey.check(page, "confirm the move")
    page.get_by_role("button", name="Move my appointment").click()
    expect(page.get_by_text("Your appointment is moved.")).to_be_visible()
    expect(page.get_by_text(new_when)).to_be_visible()
    journey.check(page, "moved")
    appointment.refresh_from_db()
    assert appointment.sequence == 1

    page.get_by_role("link", name="Cancel my appointment…").click()
    expect(page.get_by_role("heading", name="Cancel your appointment?")).to_be_visible()
    journey.check(page, "cancel asks first")
    assert Appointment.objects.get().status != AppointmentStatus.CANCELLED
    page.get_by_label("Reason (optional)").fill("My work shift changed")
    page.get_by_role("button", name="Yes, cancel my appointment").click()
    expect(page.get_by_text("Your appointment is cancelled.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Book a new time"))).to_be_visible()
    journey.check(page, "cancelled")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "My work shift changed"
    context.close()


def test_a_slot_taken_by_someone_else_between_picking_and_submitting(
    live_server, browser: Browser, service
):
    journey = Journey("slot-taken-meanwhile")
    slow, quick = new_context(browser), new_context(browser)
    slow_page, quick_page = slow.new_page(), quick.new_page()
    picker = f"{live_server.url}/providers/{service.provider.slug}/?state=NY"

    slow_page.goto(picker)
    href, when = first_slot(slow_page)
    slot_link(slow_page).click()
    fill_booking_form(slow_page, name="Sam Slow", phone="212-555-0101")
    journey.check(slow_page, "form filled slowly")

    quick_page.goto(live_server.url + href)
    fill_booking_form(quick_page, name="Quinn Quick", phone="212-555-0102")
    quick_page.get_by_role("button", name="Book this time").click()
    enter_texted_code(quick_page, "+12125550102")
    expect(quick_page.get_by_text("You’re booked.")).to_be_visible()

    slow_page.get_by_role("button", name="Book this time").click()
    enter_texted_code(slow_page, "+12125550101")
    expect(slow_page.get_by_text("Someone else just booked that time")).to_be_visible()
    expect(slow_page.get_by_role("heading", name="Choose a time")).to_be_visible()
    expect(slow_page.locator(f'.slots a[aria-label="{when}"]')).to_have_count(0)
    journey.check(slow_page, "back at the picker with a message")
    assert Appointment.objects.get().patient.name == "Quinn Quick"
    slow.close()
    quick.close()


def test_a_visitor_in_another_time_zone_sees_times_in_their_zone(
    live_server, browser: Browser, service
):
    journey = Journey("visitor-in-los-angeles")
    context = new_context(browser, timezone_id="America/Los_Angeles")
    page = context.new_page()
    page.goto(f"{live_server.url}/providers/{service.provider.slug}/?state=NY")
    # The page notices the browser's zone and shows Pacific time.
    expect(page.get_by_label("Times are shown in")).to_have_value("America/Los_Angeles")
    href, when = first_slot(page)
    start = datetime.fromisoformat(unquote(href.split("start=")[1]))
    pacific = start.astimezone(ZoneInfo("America/Los_Angeles"))
    assert when == pacific.strftime("%a %b %-d, %-I:%M %p %Z"), (when, start)
    assert when.endswith(("PST", "PDT"))
    journey.check(page, "picker in pacific time")

    slot_link(page).click()
    fill_booking_form(page, name="Lee Pacific", phone="310-555-0110")
    page.get_by_role("button", name="Book this time").click()
    enter_texted_code(page, "+13105550110")
    expect(page.get_by_role("heading", name=when)).to_be_visible()
    journey.check(page, "confirmation in pacific time")
    assert Appointment.objects.get().patient.timezone == "America/Los_Angeles"

    # The visitor can change the zone by hand.
    page.goto(f"{live_server.url}/providers/{service.provider.slug}/?state=NY")
    page.get_by_label("Times are shown in").select_option("America/Chicago")
    expect(page.get_by_label("Times are shown in")).to_have_value("America/Chicago")
    # The times change in place, without loading the page again.
    expect(slot_link(page)).to_have_attribute("aria-label", re.compile("C[SD]T$"))
    journey.check(page, "picker after choosing central time")
    context.close()


def test_provider_adds_time_off_and_the_slot_disappears_for_patients(
    live_server, browser: Browser, service
):
    journey = Journey("provider-time-off")
    provider = service.provider
    provider.user = UserFactory(username="dana", password=PASSWORD)
    provider.save()
    # Someone booked for the provider's schedule page to show.
    patient_context = new_context(browser)
    patient = patient_context.new_page()
    picker = f"{live_server.url}/providers/{provider.slug}/?state=NY"
    patient.goto(picker)
    href, when = first_slot(patient)
    start = datetime.fromisoformat(unquote(href.split("start=")[1]))

    desk = browser.new_context(
        viewport={"width": 1280, "height": 800}, timezone_id="America/New_York"
    )
    page = desk.new_page()
    page.goto(live_server.url + "/portal/")
    expect(page.get_by_role("heading", name="Provider log in")).to_be_visible()
    journey.check(page, "login")
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile("schedule"))).to_be_visible()
    journey.check(page, "portal schedule")

    page.get_by_role("link", name="Hours").click()
    journey.check(page, "hours and time off")
    local = start.astimezone(ZoneInfo(provider.timezone))
    page.get_by_label("Time off starts").fill(local.strftime("%Y-%m-%dT00:00"))
    page.get_by_label("Time off ends").fill((local + timedelta(days=1)).strftime("%Y-%m-%dT00:00"))
    page.get_by_role("button", name="Add time off").click()
    expect(page.get_by_text("Time off added.")).to_be_visible()
    journey.check(page, "time off added")

    patient.goto(picker)
    expect(patient.locator(f'.slots a[aria-label="{when}"]')).to_have_count(0)
    journey.check(patient, "patient picker without the day off")

    page.get_by_role("link", name="Calendars").click()
    expect(page.locator("#feed-url")).to_contain_text("/calendar/")
    journey.check(page, "calendar feed")
    desk.close()
    patient_context.close()


def test_provider_adds_their_own_calendar_and_its_busy_time_disappears_for_patients(
    live_server, browser: Browser, service, settings
):
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = True  # the calendar is served on this machine
    journey = Journey("provider-own-calendar")
    provider = service.provider
    provider.user = UserFactory(username="dana", password=PASSWORD)
    provider.save()
    patient_context = new_context(browser)
    patient = patient_context.new_page()
    picker = f"{live_server.url}/providers/{provider.slug}/?state=NY"
    patient.goto(picker)
    href, when = first_slot(patient)
    start = datetime.fromisoformat(unquote(href.split("start=")[1])).astimezone(UTC)
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:dentist@test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
        f"DTEND:{start + timedelta(minutes=30):%Y%m%dT%H%M%SZ}\r\nSUMMARY:Dentist\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()

    desk = browser.new_context(viewport={"width": 1280, "height": 800})
    page = desk.new_page()
    page.goto(live_server.url + "/portal/")
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Calendars").click()
    expect(page.get_by_text("No calendars added yet.")).to_be_visible()
    journey.check(page, "no calendars yet")
    with calendar_server(ics) as server:
        page.get_by_label("Calendar address").fill(server.url)
        page.get_by_label("Label (only you see it)").fill("Personal")
        page.get_by_role("button", name="Add calendar").click()
        expect(page.get_by_text("Calendar added.")).to_be_visible()
        expect(page.get_by_text("Waiting for its first reading.")).to_be_visible()
        journey.check(page, "calendar added")
        source = CalendarSource.objects.get(provider=provider)
        sync.sync_source(source_id=source.pk)  # what the worker's queued task does
    page.reload()
    row = page.locator(f"#source-{source.pk}")
    expect(row).to_contain_text("Up to date.")
    expect(row.locator(".busy-count")).to_have_text("1")
    journey.check(page, "calendar read")

    patient.goto(picker)
    expect(patient.locator(f'.slots a[aria-label="{when}"]')).to_have_count(0)

    page.get_by_role("button", name="Remove Personal").click()
    expect(page.get_by_text("Calendar removed.")).to_be_visible()
    patient.goto(picker)
    expect(patient.locator(f'.slots a[aria-label="{when}"]')).to_have_count(1)
    desk.close()
    patient_context.close()


def test_provider_confirms_a_request_and_records_attendance(live_server, browser: Browser):
    journey = Journey("provider-visit-status")
    provider = ProviderFactory(slug="pat-coach", name="Pat Coach", hours=EVERY_DAY)
    provider.user = UserFactory(username="pat", password=PASSWORD)
    provider.save()
    service = ServiceFactory(provider=provider, slug="chat", requires_approval=True)
    from tests.factories import AppointmentFactory

    now = timezone.now()
    requested = AppointmentFactory(
        service=service, start=now + timedelta(days=2), status=AppointmentStatus.REQUESTED
    )
    past = AppointmentFactory(service=service, start=now - timedelta(hours=2))

    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("pat")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Requests waiting for you (1)")).to_be_visible()
    page.goto(f"{live_server.url}/portal/appointments/{requested.pk}/")
    journey.check(page, "a request")
    page.get_by_role("button", name="Confirm this request").click()
    expect(page.get_by_text("Confirmed. The patient is told.")).to_be_visible()
    page.goto(f"{live_server.url}/portal/appointments/{past.pk}/")
    page.get_by_role("button", name="Mark attended").click()
    expect(page.get_by_text("Marked as attended.")).to_be_visible()
    journey.check(page, "attended")
    requested.refresh_from_db()
    past.refresh_from_db()
    assert (requested.status, past.status) == ("confirmed", "attended")


def test_referral_link_booking_marks_the_referral_scheduled(live_server, browser: Browser, service):
    journey = Journey("referral-link")
    referral, token = offer_referral([service.provider], service="intake")
    context = new_context(browser)
    page = context.new_page()
    page.goto(f"{live_server.url}/r/{token}")
    expect(page.get_by_role("heading", name=re.compile("pick a time"))).to_be_visible()
    journey.check(page, "referral choices")
    page.get_by_role("link", name="See times with Dana Whitfield").click()
    journey.check(page, "referral picker")
    slot_link(page).click()
    expect(page.get_by_label("Your name")).to_have_value("Riley Jordan")
    journey.check(page, "referral booking form")
    page.get_by_label(re.compile("text me about this appointment")).check()
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("You’re booked.")).to_be_visible()
    journey.check(page, "referral confirmation")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SCHEDULED
    page.goto(f"{live_server.url}/r/{token}")
    expect(page.get_by_text("You already have an appointment")).to_be_visible()
    context.close()


def test_a_visitor_waits_for_a_seat_in_a_full_group_meeting(live_server, browser: Browser):
    journey = Journey("group-waitlist")
    service = group_service(capacity=2, provider_kwargs={"hours": EVERY_DAY_EVENING})
    first = find_groups(state="NY")[0].meetings[0].start
    seat(service, first, "Robin", "+12125550111")
    seat(service, first, "Sky", "+12125550112")
    page = new_context(browser, timezone_id="America/New_York").new_page()

    page.goto(live_server.url + "/groups/?state=NY")
    expect(page.get_by_text(re.compile(r"full \(you can join its waitlist\)"))).to_be_visible()
    journey.check(page, "group finder")
    page.get_by_role("link", name=re.compile("^Wait for a seat")).first.click()
    expect(page.get_by_role("heading", name="Wait for a seat")).to_be_visible()
    journey.check(page, "wait form")

    page.get_by_label("First name or alias").fill("Moonbeam")
    page.get_by_label("Mobile phone number").fill("212-555-0166")
    page.get_by_label(re.compile("text me when a seat opens")).check()
    page.get_by_role("button", name="Join the waitlist").click()
    enter_texted_code(page, "+12125550166", journey)

    expect(page.get_by_text("You are number 1 in line.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"/w/[\w-]+$"))).to_be_visible()
    journey.check(page, "place in line")
    assert "Robin" not in page.content() and "Sky" not in page.content()


EVERY_DAY_EVENING = [(d, "18:00", "19:00") for d in range(7)]


def test_a_keyboard_alone_reaches_a_time_and_sees_where_focus_is(
    live_server, browser: Browser, service
):
    journey = Journey("keyboard-only")
    context = new_context(browser)
    page = context.new_page()
    page.goto(f"{live_server.url}/providers/{service.provider.slug}/?state=NY")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    for _ in range(80):  # bounded: the first time is a few dozen stops away at most
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.slots') !== null"):
            break
    else:
        raise AssertionError("Tab never reached a time on the picker")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    journey.check(page, "a time focused by keyboard")
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    page.keyboard.press("Enter")
    expect(page.get_by_text(label)).to_be_visible()
    context.close()


def test_the_less_travelled_pages_pass_the_accessibility_scan(
    live_server, browser: Browser, service
):
    from referrals.services import cancel_referral

    journey = Journey("other-pages")
    provider = service.provider
    provider.user = UserFactory(username="dana", password=PASSWORD)
    provider.save()
    referral, token = offer_referral([provider], service="intake")
    page = new_context(browser).new_page()

    page.goto(f"{live_server.url}/m/no-such-link")
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    journey.check(page, "bad private link")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Referrals").click()
    expect(page.get_by_text("Dr. Kim")).to_be_visible()
    journey.check(page, "referral inbox")

    cancel_referral(referral=referral)
    page.goto(f"{live_server.url}/r/{token}")
    expect(page.get_by_role("heading", name="This link is not active any more")).to_be_visible()
    journey.check(page, "closed referral link")

    page.goto(f"{live_server.url}/providers/{provider.slug}/?state=TX")
    expect(page.get_by_text("can’t see people located in Texas")).to_be_visible()
    journey.check(page, "provider not licensed in the visitors state")

    staff = UserFactory(username="helper", password=PASSWORD)
    page.goto(f"{live_server.url}/portal/")
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="This login has no provider profile")).to_be_visible()
    journey.check(page, "login without a provider profile")


def test_a_provider_sets_up_sign_in_codes_then_signs_in_with_one(
    live_server, browser: Browser, service, settings
):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.REQUIRE_MFA = True
    journey = Journey("provider-second-factor")
    provider = service.provider
    provider.user = UserFactory(username="dana", password=PASSWORD)
    provider.save()
    page = new_context(browser).new_page()

    def sign_in() -> None:
        page.goto(f"{live_server.url}/portal/")
        page.get_by_label("Username").fill("dana")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

    def code() -> str:
        device = TOTPDevice.objects.get(user=provider.user)
        return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"

    sign_in()
    expect(page.get_by_role("heading", name="Set up sign-in codes")).to_be_visible()
    expect(page.get_by_text("otpauth://totp/")).to_be_attached()
    journey.check(page, "set up an authenticator")
    page.get_by_label("Code").fill(code())
    page.get_by_role("button", name="Turn on sign-in codes").click()
    expect(page.get_by_role("heading", name="Sign-in codes are on")).to_be_visible()
    recovery = page.locator("#recovery-codes li").first.inner_text()
    journey.check(page, "recovery codes")
    page.get_by_role("link", name=re.compile("continue")).click()
    expect(page.get_by_role("link", name="Schedule")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    sign_in()
    expect(page.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("did not work")
    journey.check(page, "a wrong code")
    page.get_by_label("Code").fill(recovery)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Schedule")).to_be_visible()


def test_the_accessibility_scan_fails_on_a_serious_problem(browser: Browser):
    from tests.integration.browser_support import assert_accessible

    page = new_context(browser).new_page()
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<input type="text" name="who"><button></button></main></body></html>'
    )
    with pytest.raises(AssertionError, match="(label|button-name)"):
        assert_accessible(page, "a form without labels")
