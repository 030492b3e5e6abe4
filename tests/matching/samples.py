"""Samples of the labelled benchmark set, which lies in shared/ beside the repository (as in CI) and is
never copied into it."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "customers"


def labelled_sample(n_entities: int, seed: int = 5):
    """The records of `n_entities` random entities with their namesakes and subsidiaries, by a
    running id, and each record's entity."""
    if not BENCH.exists():
        pytest.fail(f"the labelled benchmark set is missing: {BENCH}")
    truth = {}
    with open(BENCH / "truth.csv", newline="") as f:
        for r in csv.DictReader(f):
            truth[(r["system"], r["source_id"])] = r["entity_id"]
    entities = sorted(set(truth.values()))
    chosen = set(random.Random(seed).sample(entities, n_entities))
    # keep namesakes (N) and subsidiaries (S) of chosen entities in the sample: they are the hard part
    chosen |= {e for e in entities if e.rstrip("NS") in {c.rstrip("NS") for c in chosen}}
    recs, ent = {}, {}
    i = 0
    for system in ("crm", "erp", "support", "billing"):
        with open(BENCH / f"{system}.csv", newline="") as f:
            for r in csv.DictReader(f):
                e = truth[(system, r["source_id"])]
                if e in chosen:
                    recs[i] = {**r, "system": system}
                    ent[i] = e
                    i += 1
    return recs, ent
