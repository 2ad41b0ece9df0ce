"""Exit 0 when beat is sending its periodic tasks, 1 otherwise: the beat container's health check.

Beat keeps its schedule in the database (django-celery-beat), so its liveness is read there, not from a file
inside one container: the newest ``last_run_at`` of the portal's frequent periodic tasks must be recent. Beat
writes it back every few minutes (the scheduler's sync interval), hence the default allowance."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask


class Command(BaseCommand):
    help = "Exit non-zero unless beat sent one of the portal's frequent periodic tasks recently."

    def add_arguments(self, parser):
        parser.add_argument("--max-age", type=int, default=420,
                            help="Seconds since the newest run of a frequent periodic task (default 420).")

    def handle(self, *args, max_age: int, **options):
        # Only tasks due well within the allowance say anything about beat being alive.
        names = [name for name, (_, every) in settings.SHELFOPS_PERIODIC_TASKS.items() if every * 2 <= max_age]
        newest = (PeriodicTask.objects.filter(name__in=names, enabled=True, last_run_at__isnull=False)
                  .order_by("-last_run_at").values_list("name", "last_run_at").first())
        if newest is None:
            raise CommandError(f"beat has not run any of {', '.join(names) or 'the frequent periodic tasks'} yet")
        age = (timezone.now() - newest[1]) / timedelta(seconds=1)
        if age > max_age:
            raise CommandError(f"beat looks stalled: {newest[0]!r} last ran {age:.0f}s ago (allowed {max_age}s)")
        self.stdout.write(f"beat ok: {newest[0]!r} ran {age:.0f}s ago")
