"""The table behind the database cache (rate limits and sign-in limits shared by every process
in the embedded mode). Made whatever CACHES says, so switching to db:// later just works."""

from django.core.management.commands.createcachetable import Command
from django.db import migrations

TABLE = "django_cache"


def create(apps, schema_editor):
    command = Command()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("common", "0001_worker_heartbeat")]
    operations = [migrations.RunPython(create, drop)]
