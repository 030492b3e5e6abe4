"""A batch run's candidate pairs and scored edges as stored in its shards: numpy arrays in bytes.

Little-endian fixed-width records, so that any worker reads what another wrote, whatever its machine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from matching.engine import Edge

PAIR = np.dtype("<i8")
EDGE = np.dtype(
    [
        ("a", "<i8"),
        ("b", "<i8"),
        ("weight", "<f8"),
        ("evidence", "<f8"),
        ("conflicting", "?"),
        ("identified", "?"),
    ]
)


def pairs_to_bytes(pairs: np.ndarray) -> bytes:
    return np.ascontiguousarray(pairs, dtype=PAIR).tobytes()


def pairs_from_bytes(stored: bytes | memoryview) -> np.ndarray:
    """The pairs as rows ``(a, b)``."""
    return np.frombuffer(stored, dtype=PAIR).reshape(-1, 2)


def edges_to_bytes(edges: Sequence[Edge]) -> bytes:
    return np.array(edges, dtype=EDGE).tobytes()


def edges_from_bytes(stored: bytes | memoryview) -> Iterator[Edge]:
    """The edges as tuples ``(a, b, weight, evidence, conflicting, identified)`` of Python values."""
    return iter(np.frombuffer(stored, dtype=EDGE).tolist())
