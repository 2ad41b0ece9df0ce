"""Beat keeps the chart rollups current, so the first dashboard view after a quiet night does not pay for them."""

from celery import shared_task
from django.utils import timezone

from . import rollups

ROLLUP_DAYS = 7  # the longest chart window


@shared_task(name="integrations.console.roll_up_hours", ignore_result=True)
def roll_up_hours() -> int:
    now = timezone.now()
    _, computed = rollups.store_closed_hours(now - timezone.timedelta(days=ROLLUP_DAYS), now)
    return computed
