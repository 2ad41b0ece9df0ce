"""The sync engine: one run per (connection, stream), a cursor saved after every page, counts and progress.

Layout: ``streams.py`` (the Stream protocol and the cursor/watermark rules), ``engine.py`` (executes one run),
``services.py`` (request a run), ``dispatch.py`` (claims due schedules), ``recovery.py`` (runs whose worker died),
``tasks.py`` (Celery entry points).
"""
