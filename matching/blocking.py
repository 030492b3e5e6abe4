"""Blocking: short, indexable keys that bring likely duplicates together without comparing all pairs.

``blocking_keys(domain, feats)`` gives each record a handful of keys from several *families*, so that
a pair missed by one family (a typo in the name, a missing domain) is caught by another:

=========  ===========================================================================
``tax:``   tax ID without its country prefix            ``dom:``  registrable web domain
``dl:``    domain label, and the space-free name (so "Keystone Bridge" meets keystonebridge.com)
``ph:``    phone, national tail                          ``nm:``   space-free normalised name
``tk:``    each name token (≥ 3 letters)                 ``mp:``   metaphone of the first token
``pf:``    first 5 / ``sf:`` last 5 letters of the name  ``pn:``   postal code + 2 name letters
``ad:``    postal code + house number                    ``pd:``   person: family name + birth year
``db:``    person: birth date + initial                  ``nid:``  person: national ID
``em:``    person: e-mail address
=========  ===========================================================================

``candidate_pairs`` turns the keys of many records into pairs. A block larger than ``max_block``
(``tk:solutions``) is not dropped — that would silently lose recall — but sub-blocked by *sorted
neighbourhood*: its members are sorted by their name key and each is paired with the next ``window``
members, so near-identical names stay together at linear cost. The stats say how many blocks were
sub-blocked and how many pairs each family contributed. A new record is given the same rule by the
indexed look-up of ``matching.services._candidates_of``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import jellyfish
import numpy as np
import pandas as pd

SORT_FAMILY = "nm"
KEY_LENGTH = 120  # the stored key's column


def family_of(key: str) -> str:
    return key.split(":", 1)[0]


def _customer_keys(f: Mapping[str, Any]) -> list[str]:
    keys: list[str] = []
    tax = f.get("tax_id")
    if tax:
        keys.append("tax:" + (tax[2:] if tax[:2].isalpha() else tax))
    for d in f.get("domains") or ():
        keys.append("dom:" + d)
    labels = set(f.get("domain_labels") or ())
    compacts = [c for c in (f.get("compact") or ()) if c]
    labels.update(c for c in compacts if len(c) >= 4)
    keys.extend("dl:" + x for x in sorted(labels))
    if f.get("phone_tail") and len(f["phone_tail"]) >= 7:
        keys.append("ph:" + f["phone_tail"])
    for c in compacts:
        keys.append("nm:" + c)
        if len(c) >= 6:
            keys.append("pf:" + c[:5])
            keys.append("sf:" + c[-5:])
    tokens = [t for t in (f.get("tokens") or ()) if len(t) >= 3]
    keys.extend("tk:" + t for t in tokens[:6])
    name = f.get("name") or ""
    if name:
        first = name.split()[0]
        try:
            mp = jellyfish.metaphone(first)
        except Exception:
            mp = ""
        if mp:
            second = name.split()[1][:1] if len(name.split()) > 1 else ""
            keys.append(f"mp:{mp}:{second}")
    postal = f.get("postal")
    if postal:
        if compacts:
            keys.append(f"pn:{postal}:{compacts[0][:2]}")
        if f.get("house"):
            keys.append(f"ad:{postal}:{f['house']}")
    if f.get("family"):
        try:
            fam = jellyfish.metaphone(f["family"].split()[-1])
        except Exception:
            fam = f["family"]
        year = (f.get("birth_date") or "")[:4]
        keys.append(f"pd:{fam}:{year}")
        if f.get("birth_date") and f.get("given"):
            keys.append(f"db:{f['birth_date']}:{f['given'][:1]}")
    if f.get("national_id"):
        keys.append("nid:" + f["national_id"])
    if f.get("email"):
        keys.append(("em:" + f["email"])[:KEY_LENGTH])
    return list(dict.fromkeys(keys))


def _product_keys(f: Mapping[str, Any]) -> list[str]:
    keys = []
    if f.get("code"):
        keys.append("code:" + f["code"])
    for c in f.get("compact") or ():
        keys.append("nm:" + c)
    keys.extend("tk:" + t for t in (f.get("tokens") or ()) if len(t) >= 3)
    return keys


def _contract_keys(f: Mapping[str, Any]) -> list[str]:
    keys = []
    if f.get("customer_ref"):
        keys.append("cust:" + f["customer_ref"])
        # sort key for oversized customers: the start date
        keys.append(f"nm:{f.get('start_date') or ''}:{','.join(f.get('product_codes') or ())}")
    return keys


def _entitlement_keys(f: Mapping[str, Any]) -> list[str]:
    keys = []
    if f.get("contract_ref"):
        keys.append("ctr:" + f["contract_ref"])
    if f.get("customer_ref") and f.get("product_code"):
        keys.append(f"cp:{f['customer_ref']}:{f['product_code']}")
    keys.append(f"nm:{f.get('product_code') or ''}:{f.get('start_date') or ''}")
    return keys


_BUILDERS = {
    "customer": _customer_keys,
    "product": _product_keys,
    "contract": _contract_keys,
    "entitlement": _entitlement_keys,
}


def blocking_keys(domain: str, feats: dict) -> list[str]:
    """Blocking keys of one record (strings like ``dom:acme.com``), stored in an indexed table."""
    return _BUILDERS[domain](feats)


def sort_key(keys: Iterable[str]) -> str:
    """The key a record sorts by inside an oversized block (its name key), "~" when it has none."""
    for k in keys:
        if k.startswith(SORT_FAMILY + ":"):
            return k
    return "~"


def name_ranks(sort_keys: Sequence[str]) -> np.ndarray:
    """Each position's place in the order of its sort key, equal keys in the order of position."""
    codes = pd.factorize(pd.Series(sort_keys, dtype=object), sort=True)[0]
    ranks = np.empty(len(codes), np.int64)
    ranks[np.argsort(codes, kind="stable")] = np.arange(len(codes))
    return ranks


def locality_order(pairs: np.ndarray, sort_keys: Mapping[int, str]) -> np.ndarray:
    """The pairs (rows ``(a, b)``) reordered by their records' places in sort-key order, so that
    consecutive pairs share their records: records sorting near each other by name share most of
    their candidate pairs, whatever their IDs. A batch run cuts its shards from this order, and each
    shard loads the features of fewer records (on 100,000 records, 0.07 loads a pair instead of 0.2
    in record order, where a record's duplicates from another system lie far away).
    """
    if not len(pairs):
        return pairs
    ids = sorted(sort_keys)
    rank = np.zeros(ids[-1] + 1, np.int64)
    rank[ids] = name_ranks([sort_keys[pk] for pk in ids])
    a, b = rank[pairs[:, 0]], rank[pairs[:, 1]]
    # by the lower rank, then the higher, as one number: a lexsort of the two took twice as long
    return pairs[np.argsort(np.minimum(a, b) * len(ids) + np.maximum(a, b))]


# a pair's origin, kept beside it until duplicates are dropped: its key family, and this flag when
# sorted neighbourhood found it in an oversized block
_SUB_BLOCKED = 64
_FAMILY_BITS = 7


def candidate_pairs(
    keys_by_record: Mapping[int, list[str]],
    max_block: int,
    *,
    window: int = 20,
    stats: dict[str, Any] | None = None,
) -> np.ndarray:
    """All pairs ``(a, b)`` with ``a < b`` sharing a key, as rows of an int64 array sorted by
    ``(a, b)``; oversized blocks by sorted neighbourhood.

    Pairs are gathered as one int64 code each (with the key family that found them) and deduplicated
    once at the end: a set of tuples took about 90 bytes a pair, and a million records give tens of
    millions of candidate pairs. ``stats`` (if given) receives ``pairs``, ``blocks``, ``keys_by_family``,
    ``oversized_blocks`` (key → size), ``by_family`` (pairs credited to the most specific key family
    that found them) and ``sub_blocked_pairs``.
    """
    ids = sorted(keys_by_record)
    size = max(len(ids), 1)
    position = {rid: i for i, rid in enumerate(ids)}
    # Blocks as runs of one array: every (key, record) numbered by key, then sorted by that number.
    # Key by key in Python took about 4 s at 300,000 records (3.5 million keys).
    flat = [k for keys in keys_by_record.values() for k in keys]
    owners = np.repeat(
        np.fromiter((position[rid] for rid in keys_by_record), np.int64, len(keys_by_record)),
        np.fromiter((len(keys) for keys in keys_by_record.values()), np.int64, len(keys_by_record)),
    )
    key_codes, distinct = pd.factorize(pd.Series(flat, dtype=object))
    del flat
    members_of = owners[np.argsort(key_codes, kind="stable")]
    counts = np.bincount(key_codes, minlength=len(distinct))
    starts = np.cumsum(counts) - counts
    del owners, key_codes
    shared = np.flatnonzero(counts > 1)  # in the order the keys first appear
    key_families, family_names = pd.factorize(pd.Series([family_of(k) for k in distinct], dtype=object))
    # families numbered from the most specific (smallest blocks on average): a pair is credited to
    # the most specific family that found it
    shared_families = key_families[shared]
    totals = np.bincount(shared_families, weights=counts[shared], minlength=len(family_names))
    numbers = np.bincount(shared_families, minlength=len(family_names))
    ranked = sorted(np.flatnonzero(numbers).tolist(), key=lambda f: (totals[f] / numbers[f], family_names[f]))
    families = {family_names[f]: i for i, f in enumerate(ranked)}
    rank_of = np.zeros(len(family_names), np.int8)
    rank_of[ranked] = np.arange(len(ranked))
    family_of_shared = rank_of[shared_families]
    # Pairs gathered as arrays: the blocks of each size at once (every pair of a block of n is the
    # same n*(n-1)/2 pairs of positions), an oversized block by its sorted order, k apart for k up to
    # the window. One pair at a time in Python took most of the 11 s this step had at 300,000 records;
    # the price is memory: until they are joined, a gathered pair is held twice (16 bytes, where a
    # growing array held it in 8).
    codes: list[np.ndarray] = []
    origins: list[np.ndarray] = []
    sizes = counts[shared]
    for n in np.unique(sizes[sizes <= max_block]).tolist():
        which = np.flatnonzero(sizes == n)
        members = members_of[starts[shared[which]][:, None] + np.arange(n)]
        members.sort(axis=1)
        first, second = np.triu_indices(n, 1)
        codes.append((members[:, first] * size + members[:, second]).ravel())
        origins.append(np.repeat(family_of_shared[which], len(first)))
    big = np.flatnonzero(sizes > max_block)
    oversized = {distinct[k]: int(n) for k, n in zip(shared[big].tolist(), sizes[big].tolist(), strict=True)}
    if len(big):
        # every oversized block's members in name order, the blocks one after another: each member is
        # paired with the next `window` of its block (block by block in Python took 2.3 s of 8.2 at
        # 300,000 records)
        lengths = sizes[big]
        block = np.repeat(np.arange(len(big)), lengths)
        within = np.arange(len(block)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        members = members_of[np.repeat(starts[shared[big]], lengths) + within]
        ranks = name_ranks([sort_key(keys_by_record[rid]) for rid in ids])
        order = np.lexsort((ranks[members], block))
        members, block = members[order], block[order]
        for k in range(1, window + 1):
            same = np.flatnonzero(block[:-k] == block[k:])
            a, b = members[same], members[same + k]
            codes.append(np.minimum(a, b) * size + np.maximum(a, b))
            origins.append(family_of_shared[big][block[same]] | np.int8(_SUB_BLOCKED))
    del members_of
    # Each gathered pair's family goes into the low bits of its code, which then sort in place, so
    # that a pair's first row carries its most specific family. np.unique with return_index took
    # 26 bytes a gathered pair (300,000 records gather 20.5 million: 829 MiB, now 418 MiB).
    gathered = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
    codes.clear()
    gathered <<= _FAMILY_BITS
    np.bitwise_or(gathered, np.concatenate(origins) if origins else 0, out=gathered, casting="unsafe")
    del origins
    gathered.sort()
    pair = gathered >> _FAMILY_BITS
    first = np.empty(len(pair), dtype=bool)
    first[:1] = True
    np.not_equal(pair[1:], pair[:-1], out=first[1:])
    unique = pair[first]
    del pair
    found_by = (gathered[first] & ((1 << _FAMILY_BITS) - 1)).astype(np.int8)
    del gathered, first
    if stats is not None:
        counted = np.bincount(found_by, minlength=2 * _SUB_BLOCKED)
        stats.update(
            {
                "pairs": len(unique),
                "blocks": len(shared),
                "oversized_blocks": dict(sorted(oversized.items(), key=lambda kv: -kv[1])[:50]),
                "oversized_count": len(oversized),
                "sub_blocked_pairs": int(counted[_SUB_BLOCKED:].sum()),
                "keys_by_family": dict(
                    zip(
                        family_names,
                        np.bincount(key_families, weights=counts).astype(int).tolist(),
                        strict=True,
                    )
                ),
                "by_family": {
                    name: int(counted[i] + counted[i | _SUB_BLOCKED]) for name, i in families.items()
                },
            }
        )
    record = np.asarray(ids, dtype=np.int64)
    return np.stack([record[unique // size], record[unique % size]], axis=1)


def pair_rows(pairs: np.ndarray, chunk: int = 100_000) -> Iterator[list[int]]:
    """The rows ``[a, b]`` of a pair array as Python ints, a chunk at a time (the whole array as
    lists would take again what the compact array saves)."""
    for start in range(0, len(pairs), chunk):
        yield from pairs[start : start + chunk].tolist()
