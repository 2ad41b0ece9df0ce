"""Creates or updates the fixed set of beat tasks named in settings.SHELFOPS_PERIODIC_TASKS.

Idempotent; an interval staff changed in beat's admin is kept (only missing tasks are created, and a task that
points at a renamed task path is corrected)."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django_celery_beat.models import IntervalSchedule, PeriodicTask


class Command(BaseCommand):
    help = "Create the portal's periodic tasks in django-celery-beat (idempotent)."

    def handle(self, *args, **options):
        created = updated = 0
        for name, (task, every) in settings.SHELFOPS_PERIODIC_TASKS.items():
            schedule, _ = IntervalSchedule.objects.get_or_create(every=every, period=IntervalSchedule.SECONDS)
            periodic, was_created = PeriodicTask.objects.get_or_create(
                name=name, defaults={"task": task, "interval": schedule}
            )
            if was_created:
                created += 1
            elif periodic.task != task:
                periodic.task = task
                periodic.save(update_fields=["task"])
                updated += 1
        self.stdout.write(f"periodic tasks: {created} created, {updated} updated")
