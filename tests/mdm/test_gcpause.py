"""The collector pause around bulk work: off inside, restored after, nesting and errors included."""

from __future__ import annotations

import gc

import pytest

from mdm.gcpause import gc_paused


def test_pauses_and_restores_the_collector():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block does not resume what the outer one paused
    assert gc.isenabled()


def test_restores_after_an_error_and_as_a_decorator():
    @gc_paused()
    def fails() -> None:
        assert not gc.isenabled()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fails()
    assert gc.isenabled()


def test_leaves_a_collector_that_was_off_off():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_worker_process_freezes_what_it_holds_once_started():
    from celery.signals import worker_process_init

    import config.celery  # noqa: F401  (connects the handler)

    assert gc.get_freeze_count() == 0
    try:
        worker_process_init.send(sender=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
