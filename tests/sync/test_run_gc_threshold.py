"""A sync run raises the cyclic GC's first threshold while it executes and puts the process's setting back after,
also when runs overlap on several threads (the last one to finish restores it)."""

import gc
import threading

from integrations.sync.engine import RUN_GC_THRESHOLD, fewer_gc_passes


def test_threshold_raised_during_a_run_and_restored_after_overlapping_runs():
    before = gc.get_threshold()
    gc.set_threshold(700, *before[1:])
    try:
        first_in, second_out, release = threading.Event(), threading.Event(), threading.Event()
        seen = {}

        def second_run():
            first_in.wait()
            with fewer_gc_passes():
                seen["second"] = gc.get_threshold()[0]
            second_out.set()
            release.wait()

        thread = threading.Thread(target=second_run)
        thread.start()
        with fewer_gc_passes():
            seen["first"] = gc.get_threshold()[0]
            first_in.set()
            second_out.wait(5)
            seen["after_second"] = gc.get_threshold()[0]  # the first run is still going
        release.set()
        thread.join(5)
        assert seen == {"first": RUN_GC_THRESHOLD, "second": RUN_GC_THRESHOLD, "after_second": RUN_GC_THRESHOLD}
        assert gc.get_threshold() == (700, *before[1:])
    finally:
        gc.set_threshold(*before)


def test_a_failing_run_restores_the_threshold_too():
    before = gc.get_threshold()
    try:
        with fewer_gc_passes():
            raise RuntimeError("provider down")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
