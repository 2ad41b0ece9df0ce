"""NetSuite gained a 'deletes' stream (its deleted-records log). Connections made before it get its schedule here,
as a new connection gets it from the provider's schedule_defaults; the first run is due at once."""

from django.db import migrations
from django.utils import timezone

INTERVAL_SECONDS = 3600  # NetSuiteProvider.schedule_defaults["deletes"] when this was written


def add_schedules(apps, schema_editor):
    Connection = apps.get_model("integrations", "Connection")
    SyncSchedule = apps.get_model("integrations", "SyncSchedule")
    now = timezone.now()
    for connection_id in Connection.objects.filter(provider="netsuite").values_list("pk", flat=True):
        SyncSchedule.objects.get_or_create(connection_id=connection_id, stream="deletes",
                                           defaults={"interval_seconds": INTERVAL_SECONDS, "next_run_at": now})


class Migration(migrations.Migration):
    dependencies = [("integrations", "0006_merge_20261201_0952")]

    operations = [migrations.RunPython(add_schedules, migrations.RunPython.noop)]
