"""Spanish: every patient-facing string translated, chosen from the browser or the switch,
and the patient's saved language used for later texts, which stay GSM-7 in two segments."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
import time_machine

from notifications import text
from scheduling.booking import messages
from scheduling.management.commands.compile_catalogs import MAKEMESSAGES_IGNORE
from scheduling.models import Patient
from tests.factories import prove_in_session
from tests.notifications.test_message_privacy import (
    ASKS_FOR_CANCEL,
    SMS_TEMPLATES,
    WORST,
    clinical_words,
)
from tests.scheduling.pages_helpers import NOW, form_data, make_service

ROOT = Path(__file__).resolve().parents[2]
# The patient-facing catalogs. A new one (another app's patient pages or texts) is one more
# line here: every entry of each must be translated, and its .mo must be compiled from it.
PATIENT_CATALOGS = [
    "scheduling/locale/es/LC_MESSAGES/django.po",
]
# Spanish words that would reveal the kind of care, beside the English ones.
CLINICO = re.compile(
    r"adicci|opioide|sustancia|recuperaci|rehabilitaci|desintoxicaci|terapi|consejer|"
    r"psiquiatr|tratamiento|sobredosis|abstinencia",
    re.IGNORECASE,
)
# Texts about one visit (the series texts stay English: their rule wording is English-only).
VISIT_SMS = [name for name in SMS_TEMPLATES if not name.startswith("series_")]


def catalog(path: str) -> polib.POFile:
    return polib.pofile(str(ROOT / path))


@pytest.mark.parametrize("path", PATIENT_CATALOGS)
def test_every_string_of_the_patient_catalog_is_translated(path):
    po = catalog(path)
    missing = [e.msgid for e in po if not e.translated() or "fuzzy" in e.flags]
    assert missing == [], f"{len(missing)} untranslated in {path}: {missing[:10]}"
    assert len(po) > 200


@pytest.mark.parametrize("path", PATIENT_CATALOGS)
def test_the_compiled_catalog_is_the_one_in_the_po_file(path):
    """The .mo is committed (no msgfmt needed to run): it must match its .po exactly."""
    po = catalog(path)
    mo = polib.mofile(str(ROOT / path).removesuffix(".po") + ".mo")

    def entries(source: polib._BaseFile) -> set[tuple[str, str]]:
        return {
            (e.msgid, e.msgstr or repr(sorted(e.msgstr_plural.items())))
            for e in source
            if e.msgid and not e.obsolete
        }

    assert entries(mo) == entries(po), "run: python manage.py compile_catalogs"


@pytest.mark.skipif(
    shutil.which("xgettext") is None and not os.environ.get("CI"),
    reason="no gettext here (CI installs it)",
)
def test_the_catalog_holds_every_string_marked_in_the_code(tmp_path):
    """makemessages on a copy of the app finds nothing that the catalog lacks."""
    assert shutil.which("xgettext"), "install gettext (CI does, in .ci/run)"
    copy = tmp_path / "scheduling"
    shutil.copytree(ROOT / "scheduling", copy, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "makemessages", *MAKEMESSAGES_ARGS],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    fresh = {e.msgid for e in polib.pofile(str(copy / "locale/es/LC_MESSAGES/django.po"))}
    committed = {e.msgid for e in catalog(PATIENT_CATALOGS[0]) if not e.obsolete}
    assert fresh - committed == set(), (
        "run: python manage.py compile_catalogs --update, then translate"
    )


MAKEMESSAGES_ARGS = [
    *("-l", "es", "--no-location"),
    *(arg for pattern in MAKEMESSAGES_IGNORE for arg in ("-i", pattern)),
]


SPANISH_WHEN = "mié 30 de septiembre, 12:30 p. m. AKDT"


def spanish(name: str) -> str:
    return messages.render_sms(name, {**WORST, "language": "es", "when": SPANISH_WHEN})


@pytest.mark.parametrize("name", VISIT_SMS)
def test_every_spanish_text_is_gsm7_in_at_most_two_segments(name):
    body = spanish(name)

    # The same values in English: only the template's own words may differ.
    english = messages.render_sms(name, {**WORST, "when": SPANISH_WHEN})
    assert body != english, "not translated"
    assert text.is_gsm7(body), body
    assert text.sms_segments(body) <= 2, (text.sms_segments(body), len(body), body)


@pytest.mark.parametrize("name", VISIT_SMS)
def test_every_spanish_text_is_discreet(name):
    body = spanish(name)

    assert not clinical_words(body) and not CLINICO.search(body), body
    assert not ASKS_FOR_CANCEL.search(body)


def test_a_spanish_text_drops_accents_rather_than_tripling_its_cost():
    body = spanish("booking_confirmed")
    assert "esta confirmada" in body  # "está": á is not GSM-7 and would force UCS-2
    assert text.sms_segments(body) == 2 and len(body) > 160


@pytest.mark.django_db
def test_the_browser_language_chooses_spanish(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="es-US,es;q=0.9,en;q=0.5")
    assert '<html lang="es"' in response.text
    assert "Encuentre a alguien con quien hablar" in response.text
    assert "¿Dónde se encuentra?" in response.text


@pytest.mark.django_db
def test_any_other_browser_language_gets_english(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert '<html lang="en"' in response.text
    assert "Find someone to talk to" in response.text


@pytest.mark.django_db
def test_the_switch_in_the_header_changes_the_language_and_keeps_the_page(client):
    page = client.get("/?state=NY")
    assert 'name="language" value="es"' in page.text
    switched = client.post("/i18n/setlang/", {"language": "es", "next": "/?state=NY"})
    assert switched.status_code == 302 and switched["Location"] == "/?state=NY"
    assert "Ver quién puede atenderme" in client.get("/").text
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Show who can see me" in client.get("/").text


@pytest.mark.django_db
def test_a_spanish_picker_says_its_days_and_gaps_in_spanish(client):
    service = make_service(provider_kwargs={"hours": [(0, "09:00", "12:00")]})
    with time_machine.travel(NOW, tick=False):
        page = client.get(
            f"/providers/{service.provider.slug}/?state=NY", HTTP_ACCEPT_LANGUAGE="es"
        ).text
    assert "Elija una hora" in page
    assert re.search(r"Sin horas (mar|mié)–dom", page), page.split('class="days"')[1][:600]
    assert re.search(r"(lunes|martes) \d+ de marzo", page)


@pytest.mark.django_db
def test_a_booking_in_spanish_saves_the_language_and_later_texts_use_it(client):
    prove_in_session(client, "+12125550142")
    service = make_service()
    start = NOW.replace(day=3, hour=14)
    with time_machine.travel(NOW, tick=False):
        client.post(
            f"/providers/{service.provider.slug}/book/",
            form_data(service, start),
            HTTP_ACCEPT_LANGUAGE="es",
        )
    patient = Patient.objects.get()
    assert patient.language == "es"
    appointment = patient.appointments.get()
    reminder = messages.render_sms(
        "reminder", {**messages.message_context(appointment), "hours": 2}
    )
    assert reminder.startswith("Recordatorio de Bridgeway: su cita con")
    assert "mar 3 de marzo" in reminder


@pytest.mark.django_db
def test_an_english_booking_after_a_spanish_one_switches_later_texts_back(client):
    prove_in_session(client, "+12125550142")
    service = make_service()
    with time_machine.travel(NOW, tick=False):
        for day, language in ((3, "es"), (4, "en")):
            client.post(
                f"/providers/{service.provider.slug}/book/",
                form_data(service, NOW.replace(day=day, hour=14), attempt=language),
                HTTP_ACCEPT_LANGUAGE=language,
            )
    assert Patient.objects.get().language == "en"
