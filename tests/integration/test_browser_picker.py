"""The provider page's picker in a real browser: the first free time on a phone's first
screen, the week on one row on a desktop, and visit type and time zone changing the times in
place (or through the button when JavaScript is off). Every page is scanned with axe at both
sizes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.factories import ProviderFactory, ServiceFactory
from tests.integration.browser_support import (
    DESKTOP,
    PHONE,
    Journey,
    assert_accessible,
    launch_browser,
    new_context,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

# Mondays, Thursdays and Fridays only: every week has runs of days without times.
SOME_DAYS = [(d, "09:00", "17:00") for d in (0, 3, 4)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture
def provider():
    provider = ProviderFactory(
        slug="dana-whitfield",
        name="Dana Whitfield",
        credentials="LCSW",
        states=["NY"],
        hours=SOME_DAYS,
        bio="I work with adults and families.\n" * 12,
    )
    ServiceFactory(provider=provider, slug="intake", name="First visit", duration_minutes=50)
    ServiceFactory(
        provider=provider, slug="check-in", name="Check-in", duration_minutes=25, position=1
    )
    return provider


def first_time_top(page: Page) -> float:
    box = page.locator(".slots a").first.bounding_box()
    assert box is not None
    return box["y"]


def test_on_a_phone_the_first_free_time_is_on_the_first_screen(
    live_server, browser: Browser, provider
):
    journey = Journey("picker-first-screen")
    page = new_context(browser).new_page()
    page.goto(f"{live_server.url}/providers/{provider.slug}/?state=NY")
    expect(page.locator(".slots a").first).to_be_visible()
    assert page.evaluate("window.scrollY") == 0
    assert first_time_top(page) < PHONE["height"], first_time_top(page)
    journey.check(page, "picker on a phone")
    page.set_viewport_size(DESKTOP)
    assert_accessible(page, "picker on a desktop")


def test_days_without_times_are_one_line_and_not_a_card_each(
    live_server, browser: Browser, provider
):
    page = new_context(browser).new_page()
    page.goto(f"{live_server.url}/providers/{provider.slug}/?state=NY")
    gaps = page.locator(".days .gap")
    expect(gaps.first).to_have_text(re.compile(r"^No times \w{3}(–\w{3})?$"))
    expect(page.get_by_text("No open times", exact=True)).to_have_count(0)


def test_on_a_desktop_the_week_fits_one_row(live_server, browser: Browser, provider):
    page = new_context(browser).new_page()
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/providers/{provider.slug}/?state=NY")
    tops = page.eval_on_selector_all(
        ".days > li", "rows => rows.map(r => Math.round(r.getBoundingClientRect().top))"
    )
    assert len(tops) >= 2 and len(set(tops)) == 1, tops


def test_choosing_a_time_zone_updates_the_times_without_a_button(
    live_server, browser: Browser, provider
):
    journey = Journey("picker-live-controls")
    page = new_context(browser).new_page()
    page.goto(f"{live_server.url}/providers/{provider.slug}/?state=NY")
    expect(page.get_by_role("button", name="Show times")).to_be_hidden()
    page.evaluate("window.stillHere = true")  # gone if the page were loaded again
    page.get_by_label("Times are shown in").select_option("America/Chicago")
    expect(page.locator(".slots a").first).to_have_attribute("aria-label", re.compile("C[SD]T$"))
    assert page.evaluate("window.stillHere === true")
    assert "tz=America%2FChicago" in page.url
    page.get_by_label("Type of visit").select_option("check-in")
    expect(page).to_have_url(re.compile("service=check-in"))
    expect(page.locator(".slots a").first).to_have_attribute("href", re.compile("service=check-in"))
    journey.check(page, "after choosing central time and a check-in")


def test_without_javascript_the_button_updates_the_times(live_server, browser: Browser, provider):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/providers/{provider.slug}/?state=NY")
    page.get_by_label("Times are shown in").select_option("America/Chicago")
    page.get_by_role("button", name="Show times").click()
    expect(page.locator(".slots a").first).to_have_attribute("aria-label", re.compile("C[SD]T$"))
    context.close()


def test_a_spanish_speaker_books_on_a_phone_and_cancels_after_confirming(
    live_server, browser: Browser, provider
):
    from notifications.models import Notification
    from scheduling.models import Appointment, AppointmentStatus

    journey = Journey("spanish-phone")
    context = browser.new_context(viewport=PHONE, locale="es-US", timezone_id="America/New_York")
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_label("¿Dónde se encuentra?").select_option("NY")
    page.get_by_role("button", name="Ver quién puede atenderme").click()
    expect(page.get_by_text("1 proveedor puede atender a personas en New York")).to_be_visible()
    journey.check(page, "resultados")

    # One tap from the result to the form for the next opening.
    page.locator(".next-opening a").click()
    expect(page.get_by_role("heading", name="Casi listo: sus datos")).to_be_visible()
    expect(page.get_by_text("Quién ve esto: Bridgeway")).to_be_visible()
    journey.check(page, "formulario")
    page.get_by_label("Su nombre").fill("Ana Torres")
    page.get_by_label("Número de teléfono celular").fill("212-555-0177")
    page.get_by_label(re.compile("Sí, envíenme mensajes")).check()
    page.get_by_role("button", name="Reservar esta hora").click()
    expect(page.get_by_role("heading", name="Revise su teléfono")).to_be_visible()
    code = re.search(r"\b(\d{6})\b", Notification.objects.latest("id").body)
    assert code is not None
    page.get_by_label("Código de 6 dígitos").fill(code.group(1))
    page.get_by_role("button", name="Reservar esta hora").click()
    expect(page.get_by_text("Su cita está reservada.")).to_be_visible()
    journey.check(page, "reservada")
    appointment = Appointment.objects.get()
    assert appointment.patient.language == "es"
    confirmation = Notification.objects.filter(template="booking_confirmed", channel="sms").get()
    assert confirmation.body.startswith("Bridgeway: Su cita con Dana W. esta confirmada")

    page.get_by_role("link", name="Ver o cambiar esta cita").click()
    page.get_by_role("link", name="Cancelar mi cita…").click()
    expect(page.get_by_role("heading", name="¿Cancelar su cita?")).to_be_visible()
    journey.check(page, "cancelar pregunta")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    page.get_by_role("button", name="Sí, cancelar mi cita").click()
    expect(page.get_by_text("Su cita está cancelada.").first).to_be_visible()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    context.close()
