"""The one place where a sync run changes process-wide interpreter settings (the private-API audit of issue 18).

Both are public CPython APIs (``gc.set_threshold``, ``sys.setswitchinterval``), but they act on the whole process,
not on the run: anything else running in the same process meanwhile (another thread's run, the ``sync`` command's
caller) runs with them too. So they are applied only while at least one run executes, restored by the last one,
can be switched off with ``SYNC_RUN_TUNING=False``, and what they buy depends on the interpreter's GC and GIL, so
tests/sync/test_run_tuning.py pins the interpreter version they were measured on (re-measure before moving it).
"""

from __future__ import annotations

import gc
import sys
import threading
from contextlib import contextmanager

from django.conf import settings

# The settings:
# - The cyclic GC's youngest generation is collected every 700 new container objects by default. A sync page is
#   ~1-2 MB of JSON decoded into hundreds of thousands of dicts and lists that stay alive until the page is
#   ingested, so at 700 the collector ran thousands of times per page and kept promoting the page into the old
#   generations, whose full passes walk every live object. All of it is freed by reference counting anyway.
#   50,000 took a 100k-line Square orders run from 3.7 to 2.5 s of client CPU (bench/ingest.py, as recorded when
#   it was added; not re-measured since).
# - The GIL switch interval: the ingesting thread makes ~13 short database round trips per page while the
#   prefetch thread decodes and maps the next page. At the default 5 ms, each reply could wait up to 5 ms for the
#   GIL; at 0.5 ms the same run went from 4.96-5.00 s to 4.25-4.61 s.
RUN_GC_THRESHOLD = 50_000
RUN_SWITCH_INTERVAL = 0.0005
_tuning_lock = threading.Lock()
_tuned_runs = 0
_saved_settings: tuple[tuple[int, int, int], float] | None = None


@contextmanager
def run_tuning():
    """Apply the run's process settings while at least one run is executing in this process (counted, so runs
    on several threads restore the previous settings only when the last one ends)."""
    global _tuned_runs, _saved_settings
    if not getattr(settings, "SYNC_RUN_TUNING", True):
        yield
        return
    with _tuning_lock:
        if _tuned_runs == 0:
            _saved_settings = (gc.get_threshold(), sys.getswitchinterval())
            threshold, interval = _saved_settings
            if threshold[0] < RUN_GC_THRESHOLD:
                gc.set_threshold(RUN_GC_THRESHOLD, *threshold[1:])
            sys.setswitchinterval(min(interval, RUN_SWITCH_INTERVAL))
        _tuned_runs += 1
    try:
        yield
    finally:
        with _tuning_lock:
            _tuned_runs -= 1
            if _tuned_runs == 0 and _saved_settings is not None:
                gc.set_threshold(*_saved_settings[0])
                sys.setswitchinterval(_saved_settings[1])
