"""Pairs and edges as a batch run's shards store them."""

from __future__ import annotations

import numpy as np

from matching.shards import edges_from_bytes, edges_to_bytes, pairs_from_bytes, pairs_to_bytes


def test_pairs_and_edges_come_back_as_they_went_in_from_bytes_or_a_memoryview():
    pairs = np.array([[1, 2], [3, 2**40]], dtype=np.int64)
    stored = pairs_to_bytes(pairs)
    assert len(stored) == 32, "two little-endian int64 per pair"
    assert np.array_equal(pairs_from_bytes(memoryview(stored)), pairs)
    edges = [(1, 2, 9.5, 22.75, False, True), (3, 2**40, -1.25, 12.0, True, False)]
    assert list(edges_from_bytes(memoryview(edges_to_bytes(edges)))) == edges
    assert list(edges_from_bytes(edges_to_bytes([]))) == []
    assert pairs_from_bytes(b"").shape == (0, 2)
