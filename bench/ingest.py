"""Ingest and look-up benchmark on PostgreSQL.

    python bench/ingest.py --database-url postgres://postgres@127.0.0.1:5432/mdm_bench [--clients 16]

1. Loads ../shared/bench/customers/*.csv through `import_records --no-resolve` and prints records per
   second for ingest alone, then the batch resolution (`resolve customer`) of what was loaded.
2. Serves the hub with gunicorn on 127.0.0.1 and runs concurrent clients doing cross-reference
   look-ups with an API key for a fixed number of requests; prints median / p99 latency and
   look-ups per second. Every request goes to this machine only, and the run stops by itself.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._hub import DATA, ROOT, SYSTEMS, fresh_hub


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _ingest() -> int:
    from django.core.management import call_command

    total = 0
    started = time.perf_counter()
    for system in SYSTEMS:
        path = DATA / f"{system}.csv"
        call_command(
            "import_records", system, "customer", str(path), "--no-resolve", verbosity=0, stdout=io.StringIO()
        )
        with path.open() as handle:
            total += sum(1 for _ in handle) - 1
    seconds = time.perf_counter() - started
    # Features (normalisation) are computed by matching, off the ingest path.
    print(f"ingest (validate, fingerprint, upsert with history): {total} records in {seconds:.1f}s "
          f"= {total / seconds:.0f} records/s")  # fmt: skip
    started = time.perf_counter()
    out = io.StringIO()
    call_command("resolve", "customer", stdout=out)
    print(f"batch resolution: {time.perf_counter() - started:.1f}s ({out.getvalue().strip()})")
    return total


def _client(port: int, key: str, ids: list[tuple[str, str]], requests: int) -> tuple[list[float], int]:
    """One client: sequential look-ups on a kept-alive connection; (latencies, errors)."""
    latencies: list[float] = []
    errors = 0
    rng = random.Random()
    headers = {"Authorization": f"Api-Key {key}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
        for _ in range(requests):
            system, source_id = rng.choice(ids)
            started = time.perf_counter()
            params = {"system": system, "domain": "customer", "source_id": source_id}
            response = http.get("/api/v1/xref/", params=params)
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != 200
    return latencies, errors


def _lookups(port: int, key: str, ids: list[tuple[str, str]], clients: int, per_client: int) -> None:
    # Clients run in processes of their own: in one process the client's own Python (and its GIL)
    # would be what is measured.
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(_client, *zip(*[(port, key, ids, per_client)] * clients, strict=True)))
    seconds = time.perf_counter() - started
    latencies = sorted(t for times, _ in results for t in times)
    errors = sum(e for _, e in results)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"xref look-up, {clients} concurrent clients, {len(latencies)} requests, {errors} errors: "
          f"median {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
          f"{len(latencies) / seconds:.0f} look-ups/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep", action="store_true", help="look-ups only, against what the database holds")
    args = parser.parse_args()
    _ensure_database(args.database_url)
    fresh_hub(args.database_url, keep=args.keep)
    if not args.keep:
        _ingest()

    from mdm.apikeys import issue_key
    from mdm.models import SourceSystem

    _, key = issue_key(system=SourceSystem.objects.get(code="crm"), name="bench", scopes=["read"])
    ids = []
    for system in SYSTEMS:
        with (DATA / f"{system}.csv").open() as handle:
            ids += [(system, row["source_id"]) for row in csv.DictReader(handle)]
    env = {**os.environ, "DATABASE_URL": args.database_url}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{args.port}",
         "--workers", "4", "--threads", "4", "--worker-class", "gthread", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{args.port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        _lookups(args.port, key, ids, clients=4, per_client=200)  # warm-up: connections, caches
        _lookups(args.port, key, ids, clients=args.clients, per_client=args.requests // args.clients)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
