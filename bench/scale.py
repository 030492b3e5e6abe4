"""Scale benchmark: larger data of the benchmark's shape, batch-resolved, then per-record latencies.

    python bench/scale.py --records 100000 [--database-url URL] [--workers 2] [--splink]

Generates N customer records from the labelled set: copy k of a row becomes another organisation
(a word put before its name, another house number, its identifiers shifted but as valid as before,
its web domain another), so duplicates stay within a copy and names repeat across copies as real
namesakes do; `truth.csv` labels every record. Loads them with `import_records --no-resolve`,
resolves the domain in batch (`resolve customer`; with --workers, its shards on a real Celery worker of
that many processes) and scores the batch's cross-reference against the generated truth (with
--splink, the Splink baseline on the same records beside it), then measures, against everything held:
incremental resolution of one new record (its ingest, then the resolution task's work: match, golden
record, reviews; p50/p95 of each and of the two together) and search before create (p50/p95).
Prints wall times, rates and peak memory.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import resource
import statistics
import sys
import time
import zlib
from contextlib import nullcontext
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._hub import DATA, SYSTEMS, celery_workers, fresh_hub, scorer, splink_baseline
from matching import normalize

WORDS = [
    "Alder",
    "Birch",
    "Cedar",
    "Delta",
    "Ember",
    "Falcon",
    "Garnet",
    "Harbor",
    "Indigo",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Onyx",
    "Pioneer",
    "Quartz",
    "Raven",
    "Summit",
    "Tundra",
    "Umber",
    "Vertex",
    "Willow",
    "Xenon",
    "Yarrow",
    "Zephyr",
]


def _shift_digits(value: str, k: int, last: int | None = None) -> str:
    """The number its digits (the `last` ones only, if given) make, plus k times a prime, in as many
    digits: copies up to 10**digits apart never share it (a shift of each digit by k repeated every
    ten copies, so that copies 0, 10, 20… shared their phone numbers and tax IDs)."""
    positions = [i for i, c in enumerate(value) if c.isdigit()]
    if last:
        positions = positions[-last:]
    if not positions:
        return value
    number = (int("".join(value[i] for i in positions)) + k * 7919) % 10 ** len(positions)
    chars = list(value)
    for i, digit in zip(positions, f"{number:0{len(positions)}d}", strict=True):
        chars[i] = digit
    return "".join(chars)


def _other_domain(value: str, word: str) -> str:
    """The address with another registrable domain (acme.co.uk -> acmebirch.co.uk); free-mail kept."""
    registrable = normalize.web_domain(value)
    if not registrable:
        return value
    label = f"{normalize.domain_label(registrable)}."
    at = value.lower().rfind(label)
    return value if at < 0 else f"{value[: at + len(label) - 1]}{word.lower()}{value[at + len(label) - 1 :]}"


@cache
def _valid_tax_id(compact: str, country: str | None) -> str:
    """The compact tax ID with as few digits changed as it takes to be valid (a check digit put right)."""
    if normalize.tax_id(compact, country)[1]:
        return compact
    for i in reversed([i for i, c in enumerate(compact) if c.isdigit()]):
        for d in "0123456789":
            candidate = compact[:i] + d + compact[i + 1 :]
            if normalize.tax_id(candidate, country)[1]:
                return candidate
    return compact


def _other_tax_id(value: str, k: int, country: str | None) -> str:
    """Another organisation's tax ID in the same format, valid if the original was."""
    compact, valid = normalize.tax_id(value, country)
    if not valid:
        return _shift_digits(value, k)
    digits = iter(c for c in _valid_tax_id(_shift_digits(compact, k), country) if c.isdigit())
    return "".join(next(digits) if c.isdigit() else c for c in value)


@cache
def _first_words() -> list[str]:
    """The first words of the labelled set's organisation names, each once."""
    words = set()
    for system in SYSTEMS:
        for row in csv.DictReader((DATA / f"{system}.csv").open()):
            words.update(normalize.org_name(row["name"] or row["legal_name"])[0].split()[:1])
    return sorted(words)


def _copy(row: dict[str, str], k: int, entity: str) -> dict[str, str]:
    """Copy k of a row: another organisation of the same shape, its identifiers as valid as the
    original's."""
    if k == 0:
        return row
    word = f"{WORDS[k % len(WORDS)]}{k // len(WORDS) or ''}"
    # Names gain a first word drawn per organisation from the data's own first words: one word for a
    # whole copy would put every name of the copy into one block of any name-prefix blocking rule.
    words = _first_words()
    first = words[zlib.crc32(f"{entity}-{k}".encode()) % len(words)]
    out = dict(row)
    out["source_id"] = f"{row['source_id']}-{k}"
    for field in ("name", "legal_name"):
        if row[field]:
            out[field] = f"{first.upper() if row[field].isupper() else first.title()} {row[field]}"
    for field in ("website", "email"):
        out[field] = _other_domain(row[field], word)
    out["tax_id"] = _other_tax_id(row["tax_id"], k, normalize.country(row["country"]))
    out["phone"] = _shift_digits(row["phone"], k, last=4)  # the subscriber's digits: still a valid number
    out["postal_code"] = _shift_digits(row["postal_code"], k)
    out["address_line1"] = _shift_digits(row["address_line1"], k)  # another house on the street
    out["parent_source_id"] = f"{row['parent_source_id']}-{k}" if row["parent_source_id"] else ""
    return out


def _write(records: int, folder: Path) -> dict[str, Path]:
    """The systems' CSV files, and `truth.csv` beside them: copy k of entity E is entity E-k."""
    per_system = {s: list(csv.DictReader((DATA / f"{s}.csv").open())) for s in SYSTEMS}
    labels = csv.DictReader((DATA / "truth.csv").open())
    entity = {(r["system"], r["source_id"]): r["entity_id"] for r in labels}
    total = sum(len(rows) for rows in per_system.values())
    copies = max(1, -(-records // total))
    paths = {}
    with (folder / "truth.csv").open("w", newline="") as truth_handle:
        truth = csv.writer(truth_handle)
        truth.writerow(["system", "source_id", "entity_id"])
        for system, rows in per_system.items():
            paths[system] = folder / f"{system}.csv"
            share = round(records * len(rows) / total)
            with paths[system].open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                written = 0
                for k in range(copies):
                    for row in rows:
                        if written == share:
                            break
                        label = entity[(system, row["source_id"])]
                        copy = _copy(row, k, label)
                        writer.writerow(copy)
                        truth.writerow([system, copy["source_id"], f"{label}-{k}" if k else label])
                        written += 1
    return paths


def _percentiles(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    return f"p50 {statistics.median(samples) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument(
        "--keep", action="store_true", help="measure latencies against what the database holds"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="batch-resolve on a Celery worker of this many processes"
    )
    parser.add_argument(
        "--splink", action="store_true", help="run the Splink baseline on the same records, scored alike"
    )
    args = parser.parse_args()
    if args.workers and not args.database_url:
        parser.error("--workers needs --database-url (a PostgreSQL database the worker can share)")
    var = fresh_hub(args.database_url, keep=args.keep)

    paths = _write(args.records, var)
    if not args.keep:
        _load(paths, args.workers)
        _quality(var)
    _latencies(paths, args.samples)
    if args.splink:
        _splink(var)


def _load(paths: dict[str, Path], workers: int) -> None:
    from django.core.management import call_command

    from matching.models import MatchRun
    from mdm.models import SourceRecord

    started = time.perf_counter()
    for system, path in paths.items():
        call_command(
            "import_records", system, "customer", str(path), "--no-resolve", verbosity=0, stdout=io.StringIO()
        )
    ingest_seconds = time.perf_counter() - started
    held = SourceRecord.objects.count()
    print(f"records: {held}; ingest {ingest_seconds:.0f}s = {held / ingest_seconds:.0f} records/s")
    out = io.StringIO()
    with celery_workers(workers) if workers else nullcontext() as memory:
        started = time.perf_counter()
        call_command("resolve", "customer", stdout=out)
        resolve_seconds = time.perf_counter() - started
    where = f"on a worker of {workers} processes" if workers else "in-process"
    print(f"batch resolution {where} {resolve_seconds:.0f}s: {out.getvalue().strip()}")
    stats = MatchRun.objects.latest("started_at").stats
    seconds = stats.get("seconds", {})
    print(f"  engine phases (s): {seconds}")
    print(f"  settling steps (s): {stats.get('settling_seconds')}")
    phases = "features, reading them, keys, blocking, model, shards, scoring, edges, clustering"
    print(f"  matching phase ({phases}) {seconds.get('total', 0):.0f}s")
    print(f"  without features {seconds.get('total', 0) - seconds.get('features', 0):.0f}s")
    # the rest of the run: golden records with history, blocking keys, review tasks
    print(f"  settling {resolve_seconds - seconds.get('total', 0):.0f}s")
    print(f"end to end {ingest_seconds + resolve_seconds:.0f}s for {held} records")
    if workers:
        # the worker has stopped: the largest of its processes (read before any other child runs)
        largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"largest worker process {largest:.0f} MiB; worker processes together at most", end=" ")
        print(f"{memory.peak_bytes / 2**20:.0f} MiB")


def _quality(folder: Path) -> None:
    """Pairwise figures of the batch's cross-reference against the generated truth."""
    from django.core.management import call_command

    score = scorer()
    truth = score.load(str(folder / "truth.csv"), "entity_id")
    call_command("export_xref", "customer", "-o", str(folder / "xref.csv"))
    hub = score.score(truth, score.load(str(folder / "xref.csv"), "golden_id"))
    figures = ", ".join(f"{k} {hub[k]}" for k in ("precision", "recall", "f1", "bcubed_f1"))
    print(f"quality of the batch: {figures}")


def _splink(folder: Path) -> None:
    """The Splink baseline on the records generated for the hub, scored alike."""
    print(f"Splink baseline on the same records: {splink_baseline(folder, folder / 'splink-xref.csv')}")


def _latencies(paths: dict[str, Path], samples: int) -> None:
    """One new record at a time: ingested (validated, stored with history), then resolved by the
    task's own code as a worker runs it; and a search before create."""
    from matching.services import search
    from matching.tasks import resolve_records
    from mdm.gcpause import freeze_heap
    from mdm.ingest import ingest_records
    from mdm.models import SourceRecord, SourceSystem

    held = SourceRecord.objects.count()
    rng = random.Random(7)
    run = int(time.time())  # new source IDs on every run, so each sample is a new record
    rows = list(csv.DictReader(paths["crm"].open()))
    crm = SourceSystem.objects.get(code="crm")
    # this process stands for a worker process, which freezes what it holds once started
    freeze_heap()
    ingesting, resolving, both, searching = [], [], [], []
    for n in range(samples):
        row = {**rng.choice(rows)}
        row["source_id"] = f"new-{run}-{n}"
        row["name"] = row["name"].upper()
        started = time.perf_counter()
        report = ingest_records(
            system=crm, domain="customer", payloads=[row], received_via="bench", resolve=False
        )
        ingested = time.perf_counter()
        resolve_records(report.changed_ids)
        resolved = time.perf_counter()
        ingesting.append(ingested - started)
        resolving.append(resolved - ingested)
        both.append(resolved - started)
        started = time.perf_counter()
        search("customer", {k: v for k, v in row.items() if v}, limit=5)
        searching.append(time.perf_counter() - started)
    print(f"incremental resolution of one new record against {held}: {_percentiles(resolving)}")
    print(f"  ingest of that record: {_percentiles(ingesting)}; the two together: {_percentiles(both)}")
    print(f"search before create against {held}: {_percentiles(searching)}")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
