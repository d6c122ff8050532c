"""The care circle on the patient's private link: /api/patients/me/... with ?token= (the
manage token of any of their appointments). A token that opens nothing is a 404."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound
from common.events import Actor
from scheduling.audit.models import AuditAction, AuditChannel, AuditRole
from scheduling.audit.requests import record
from scheduling.audit.services import appointment_subject
from scheduling.booking import links
from scheduling.booking.access import request_token
from scheduling.circle import support
from scheduling.circle.models import ContactPreference, SupportPerson
from scheduling.circle.services import update_contact_preference
from scheduling.models import Appointment

TOKEN = [OpenApiParameter("token", str, OpenApiParameter.QUERY, required=True)]
SOURCE = "private link (API)"


def _appointment(request: Request, action: str = AuditAction.VIEW) -> Appointment:
    appointment = links.appointment_for_token(request_token(request))
    if appointment is None:
        raise NotFound()
    record(
        request,
        channel=AuditChannel.API,
        role=AuditRole.PATIENT,
        action=action,
        subjects=[appointment_subject(appointment)],
    )
    return appointment


def _validated(serializer_class: type[serializers.Serializer], request: Request) -> Any:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ContactPreferenceSerializer(serializers.Serializer):
    quiet_from = serializers.TimeField(allow_null=True, required=False, default=None)
    quiet_until = serializers.TimeField(allow_null=True, required=False, default=None)
    texts_ok = serializers.BooleanField(default=True)
    discreet_names = serializers.BooleanField(default=False)
    preferred_name = serializers.CharField(
        max_length=60, allow_blank=True, required=False, default=""
    )


class SupportPersonInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    phone = serializers.CharField(max_length=40)
    relationship = serializers.CharField(max_length=40)
    until = serializers.DateTimeField(help_text="At most one year from now.")
    receives = serializers.ChoiceField(choices=["reminders"], default="reminders")


class SupportPersonSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    relationship = serializers.CharField()
    receives = serializers.CharField()
    purpose = serializers.CharField()
    until = serializers.DateTimeField()
    signed_at = serializers.DateTimeField()
    signed_source = serializers.CharField()
    status = serializers.CharField()
    agreed_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    ended_source = serializers.CharField()
    may_receive = serializers.SerializerMethodField()

    def get_may_receive(self, person: SupportPerson) -> bool:
        return person.may_receive()


class DisclosureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    to = serializers.CharField()
    support_person = serializers.UUIDField()
    what = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    status = serializers.CharField()


def _contact_body(appointment: Appointment) -> dict[str, Any]:
    pref = ContactPreference.objects.filter(patient=appointment.patient).first()
    pref = pref or ContactPreference(patient=appointment.patient)
    return ContactPreferenceSerializer(pref).data


class ContactPreferenceView(APIView):
    @extend_schema(parameters=TOKEN, responses={200: ContactPreferenceSerializer})
    def get(self, request: Request) -> Response:
        return Response(_contact_body(_appointment(request)))

    @extend_schema(
        parameters=TOKEN,
        request=ContactPreferenceSerializer,
        responses={200: ContactPreferenceSerializer},
    )
    def put(self, request: Request) -> Response:
        appointment = _appointment(request, AuditAction.CHANGE)
        values = _validated(ContactPreferenceSerializer, request)
        update_contact_preference(patient=appointment.patient, actor=Actor.PATIENT, **values)
        return Response(_contact_body(appointment))


class SupportPersonListView(APIView):
    @extend_schema(parameters=TOKEN, responses={200: SupportPersonSerializer(many=True)})
    def get(self, request: Request) -> Response:
        appointment = _appointment(request)
        people = SupportPerson.objects.filter(patient=appointment.patient)
        return Response(SupportPersonSerializer(people, many=True).data)

    @extend_schema(
        parameters=TOKEN,
        request=SupportPersonInputSerializer,
        responses={201: SupportPersonSerializer},
    )
    def post(self, request: Request) -> Response:
        appointment = _appointment(request, AuditAction.CHANGE)
        values = _validated(SupportPersonInputSerializer, request)
        values.pop("receives")
        person = support.add_support_person(patient=appointment.patient, source=SOURCE, **values)
        return Response(SupportPersonSerializer(person).data, status=201)


class SupportPersonWithdrawView(APIView):
    @extend_schema(parameters=TOKEN, request=None, responses={200: SupportPersonSerializer})
    def post(self, request: Request, person_id: str) -> Response:
        appointment = _appointment(request, AuditAction.CHANGE)
        person = SupportPerson.objects.filter(pk=person_id, patient=appointment.patient).first()
        if person is None:
            raise NotFound()
        person = support.revoke_support_person(person=person, source=SOURCE)
        return Response(SupportPersonSerializer(person).data)


class DisclosureListView(APIView):
    @extend_schema(parameters=TOKEN, responses={200: DisclosureSerializer(many=True)})
    def get(self, request: Request) -> Response:
        appointment = _appointment(request)
        return Response(
            DisclosureSerializer(support.disclosures(appointment.patient), many=True).data
        )
