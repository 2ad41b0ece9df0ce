"""The portal's settings with kombu's stock Redis transport instead of ``shelfops/broker.py``: the code before the
fix of issue 16. Only the fault suite uses it, by starting a worker with ``DJANGO_SETTINGS_MODULE`` pointing here
(``tests/faults/test_broker_loss.py``), to show the crash the fix prevents. ``tests/`` is not in the image
(.dockerignore), so production cannot select it."""

from shelfops.settings import *  # noqa: F403

CELERY_BROKER_TRANSPORT = "redis"
