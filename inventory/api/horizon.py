"""The visibility horizon of the changes feed (``ordering=updated_at``).

``updated_at`` is stamped when a row is written, not when its transaction commits. A row written at 10:00:00.5
by a transaction that commits at 10:00:03 would be invisible to a client paging at 10:00:01 and, once its cursor
has moved past 10:00:00.5, skipped for ever. So the feed only serves rows older than every transaction that
may still commit: on PostgreSQL the start of the oldest open writing transaction (pg_stat_activity, same role),
everywhere ``now - API_CHANGES_SETTLE_SECONDS``, which also covers the short gap between stamping a row in
Python and the statement that writes it. Rows past the horizon appear on a later poll of the same cursor.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

OLDEST_WRITER_SQL = """
    SELECT min(xact_start) FROM pg_stat_activity
    WHERE backend_xid IS NOT NULL AND datname = current_database() AND pid <> pg_backend_pid()
"""


def changes_horizon():
    settle = timedelta(seconds=getattr(settings, "API_CHANGES_SETTLE_SECONDS", 2))
    horizon = timezone.now() - settle
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(OLDEST_WRITER_SQL)
            oldest = cursor.fetchone()[0]
        if oldest is not None:
            horizon = min(horizon, oldest - settle)
    return horizon
