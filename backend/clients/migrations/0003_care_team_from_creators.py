"""Existing clients: their creator and every clinician who started one of their intakes join
the care team, so nobody loses access they had through their own work."""

from django.db import migrations


def fill_care_teams(apps, schema_editor):
    Client = apps.get_model("clients", "Client")
    Intake = apps.get_model("intake", "Intake")
    Through = Client.care_team.through
    pairs = set(
        Client.objects.exclude(created_by=None).values_list("pk", "created_by_id")
    ) | set(Intake.objects.exclude(created_by=None).values_list("client_id", "created_by_id"))
    Through.objects.bulk_create(
        [Through(client_id=client, user_id=user) for client, user in pairs],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0002_care_team"),
        ("intake", "0001_initial"),
    ]

    operations = [migrations.RunPython(fill_care_teams, migrations.RunPython.noop)]
