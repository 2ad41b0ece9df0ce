"""A sync run raises the cyclic GC's first threshold and shortens the GIL switch interval while it executes, and
puts the process's settings back after, also when runs overlap on several threads (the last one restores them)."""

import gc
import sys
import threading

import pytest
from django.test import override_settings

from integrations.sync.tuning import RUN_GC_THRESHOLD, RUN_SWITCH_INTERVAL, run_tuning


@pytest.fixture
def process_defaults():
    saved = gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(700, *saved[0][1:])
    sys.setswitchinterval(0.005)
    yield (700, *saved[0][1:]), 0.005
    gc.set_threshold(*saved[0])
    sys.setswitchinterval(saved[1])


def settings_now():
    return gc.get_threshold()[0], sys.getswitchinterval()


def test_settings_held_during_overlapping_runs_and_restored_by_the_last(process_defaults):
    tuned = (RUN_GC_THRESHOLD, pytest.approx(RUN_SWITCH_INTERVAL))
    first_in, second_out, release = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def second_run():
        first_in.wait()
        with run_tuning():
            seen["second"] = settings_now()
        second_out.set()
        release.wait()

    thread = threading.Thread(target=second_run)
    thread.start()
    with run_tuning():
        seen["first"] = settings_now()
        first_in.set()
        second_out.wait(5)
        seen["after_second"] = settings_now()  # the first run is still going
    release.set()
    thread.join(5)
    assert seen == {"first": tuned, "second": tuned, "after_second": tuned}
    assert (gc.get_threshold(), sys.getswitchinterval()) == process_defaults


def test_a_failing_run_restores_the_settings_too(process_defaults):
    with pytest.raises(RuntimeError), run_tuning():
        raise RuntimeError("provider down")
    assert (gc.get_threshold(), sys.getswitchinterval()) == process_defaults


def test_switched_off_a_run_leaves_the_interpreter_alone(process_defaults):
    with override_settings(SYNC_RUN_TUNING=False), run_tuning():
        assert (gc.get_threshold(), sys.getswitchinterval()) == process_defaults
    assert (gc.get_threshold(), sys.getswitchinterval()) == process_defaults


def test_the_tuning_is_pinned_to_the_interpreter_it_was_measured_on():
    """What a GC threshold and a switch interval buy is CPython's own (3.12 moved the GC trigger to the eval
    breaker, 3.13/3.14 rework the generations), so moving the interpreter fails here on purpose: re-measure
    ``bench/ingest.py`` with ``SYNC_RUN_TUNING=1`` and ``=0`` on a quiet machine, then update this pin and the
    figures in integrations/sync/tuning.py and the README (or drop the tuning)."""
    assert sys.implementation.name == "cpython"
    assert sys.version_info[:2] == (3, 11), f"re-measure the sync run tuning on Python {sys.version.split()[0]}"
