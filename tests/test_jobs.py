"""The job protocol's helpers: the stop check every long job reads its ``stop`` with."""

from __future__ import annotations

import threading

from napari_seisseg.jobs import drain, stop_requested


def test_stop_requested_reads_none_events_and_callables():
    assert stop_requested(None) is False
    event = threading.Event()
    assert stop_requested(event) is False
    event.set()
    assert stop_requested(event) is True
    assert stop_requested(lambda: 1) is True
    assert stop_requested(lambda: 0) is False


def test_drain_returns_the_result_and_passes_every_event():
    def job():
        yield 1
        yield 2
        return "done"

    seen = []
    assert drain(job(), seen.append) == "done"
    assert seen == [1, 2]
