"""/fhir/: the FHIR R4 facade (fhir/base.py, directory.py, appointments.py, referrals.py)."""

from __future__ import annotations

from django.urls import path

from fhir import appointments, directory, referrals

RESOURCES = {
    "Practitioner": directory.PractitionerView,
    "PractitionerRole": directory.PractitionerRoleView,
    "HealthcareService": directory.HealthcareServiceView,
    "Schedule": directory.ScheduleView,
    "Slot": directory.SlotView,
    "Appointment": appointments.AppointmentView,
    "ServiceRequest": referrals.ServiceRequestView,
    "Task": referrals.TaskView,
}

urlpatterns = [path("metadata", directory.MetadataView.as_view(), name="fhir-metadata")]
for _name, _view in RESOURCES.items():
    urlpatterns += [
        path(f"{_name}", _view.as_view(), name=f"fhir-{_name.lower()}-search"),
        path(f"{_name}/<str:resource_id>", _view.as_view(), name=f"fhir-{_name.lower()}"),
    ]
