"""Connections made before a provider gained a stream (the daily stock check, ``reconcile_stock``) get its schedule
now, one interval away, as connecting would have made it (``integrations.oauth.connect.ensure_schedules``). Streams
come from the provider registry, so this names no provider; existing schedules are left as staff set them."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone


def add_missing_schedules(apps, schema_editor):
    from integrations.providers import registry

    Connection = apps.get_model("integrations", "Connection")
    SyncSchedule = apps.get_model("integrations", "SyncSchedule")
    now = timezone.now()
    known = set(SyncSchedule.objects.values_list("connection_id", "stream"))
    missing = []
    for connection_id, provider_key in Connection.objects.values_list("pk", "provider"):
        try:
            defaults = registry.get_provider(provider_key).schedule_defaults
        except registry.UnknownProvider:  # no longer offered: nothing to schedule
            continue
        missing += [SyncSchedule(connection_id=connection_id, stream=stream, interval_seconds=interval,
                                 next_run_at=now + timedelta(seconds=interval))
                    for stream, interval in defaults.items() if (connection_id, stream) not in known]
    SyncSchedule.objects.bulk_create(missing, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0007_syncrun_drift")]

    operations = [migrations.RunPython(add_missing_schedules, migrations.RunPython.noop)]
