"""A referral keeps what its coordinator entered about the person, and joins a patient
record only when the person books through its link.

Existing referrals take their details from the patient they were linked to, which is what
they showed until now; the link itself stays, since it cannot be told apart afterwards from
one a booking made.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

DETAILS = ("name", "phone", "email", "timezone", "state")


def copy_from_patient(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    Patient = apps.get_model("scheduling", "Patient")
    person = Patient.objects.filter(pk=OuterRef("patient_id"))
    Referral.objects.filter(patient__isnull=False).update(
        **{f"patient_{field}": Subquery(person.values(field)[:1]) for field in DETAILS}
    )


class Migration(migrations.Migration):

    dependencies = [
        ("referrals", "0003_event_kind_choices"),
        ("scheduling", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="patient_name",
            field=models.CharField(default="", max_length=160),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="referral",
            name="patient_phone",
            field=models.CharField(
                default="", help_text="E.164; the link is sent here", max_length=20
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="referral",
            name="patient_email",
            field=models.EmailField(blank=True, default="", max_length=254),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="referral",
            name="patient_timezone",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="referral",
            name="patient_state",
            field=models.CharField(choices=[('AL', 'Alabama'), ('AK', 'Alaska'), ('AS', 'American Samoa'), ('AZ', 'Arizona'), ('AR', 'Arkansas'), ('CA', 'California'), ('CO', 'Colorado'), ('CT', 'Connecticut'), ('DE', 'Delaware'), ('DC', 'District of Columbia'), ('FL', 'Florida'), ('GA', 'Georgia'), ('GU', 'Guam'), ('HI', 'Hawaii'), ('ID', 'Idaho'), ('IL', 'Illinois'), ('IN', 'Indiana'), ('IA', 'Iowa'), ('KS', 'Kansas'), ('KY', 'Kentucky'), ('LA', 'Louisiana'), ('ME', 'Maine'), ('MD', 'Maryland'), ('MA', 'Massachusetts'), ('MI', 'Michigan'), ('MN', 'Minnesota'), ('MS', 'Mississippi'), ('MO', 'Missouri'), ('MT', 'Montana'), ('NE', 'Nebraska'), ('NV', 'Nevada'), ('NH', 'New Hampshire'), ('NJ', 'New Jersey'), ('NM', 'New Mexico'), ('NY', 'New York'), ('NC', 'North Carolina'), ('ND', 'North Dakota'), ('MP', 'Northern Mariana Islands'), ('OH', 'Ohio'), ('OK', 'Oklahoma'), ('OR', 'Oregon'), ('PA', 'Pennsylvania'), ('PR', 'Puerto Rico'), ('RI', 'Rhode Island'), ('SC', 'South Carolina'), ('SD', 'South Dakota'), ('TN', 'Tennessee'), ('TX', 'Texas'), ('VI', 'U.S. Virgin Islands'), ('UT', 'Utah'), ('VT', 'Vermont'), ('VA', 'Virginia'), ('WA', 'Washington'), ('WV', 'West Virginia'), ('WI', 'Wisconsin'), ('WY', 'Wyoming')], default="", max_length=2),
            preserve_default=False,
        ),
        migrations.RunPython(copy_from_patient, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="referral",
            name="patient",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="referrals",
                to="scheduling.patient",
            ),
        ),
    ]
