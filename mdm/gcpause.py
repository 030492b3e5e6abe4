"""Pausing CPython's cyclic garbage collector around bulk work.

A batch run holds millions of small objects that form no reference cycles (the features of every
record, scored pairs and their explanations). While a run keeps allocating, the cyclic collector keeps
starting full collections, and each one walks every object alive: on the labelled set the matching
engine spent 33 s with it and 14 s without. Reference counting frees such objects by itself, so bulk
phases pause the collector; cycles made meanwhile are collected once it runs again.

A worker process also freezes what it holds once started (`freeze_heap`): the modules, classes and
functions of Django and the hub live as long as the process, and each full collection walked them
again (one new record resolved against a million held: p95 54.2 → 45.8 ms, bench/RESULTS.md).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block (or, as a decorator, the function) with the cyclic collector off; nests."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def freeze_heap(**_: object) -> None:
    """Move every object alive now out of the collector's reach for good (a Celery worker process
    calls this once started: `worker_process_init`). Frozen objects are still freed by reference
    counting; only cycles among them stay."""
    gc.freeze()
