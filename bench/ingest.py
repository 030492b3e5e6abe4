"""Ingest and look-up benchmark on PostgreSQL.

    python bench/ingest.py --database-url postgres://postgres@127.0.0.1:5432/mdm_bench [--clients 8 16]

1. Loads ../shared/bench/customers/*.csv through `import_records --no-resolve` and prints records per
   second for ingest alone, then the batch resolution (`resolve customer`) of what was loaded.
2. Serves the hub with gunicorn on 127.0.0.1 and runs concurrent clients doing cross-reference
   look-ups with an API key for a fixed number of requests; prints median / p99 latency and
   look-ups per second. Every request goes to this machine only, and the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._hub import DATA, ROOT, SYSTEMS, fresh_hub


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


async def _client(
    port: int, key: str, ids: list[tuple[str, str]], requests: int, latencies: list[float]
) -> int:
    """One client: sequential look-ups on a kept-alive HTTP/1.1 connection; returns its errors."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    errors = 0
    rng = random.Random()
    for _ in range(requests):
        system, source_id = rng.choice(ids)
        query = urlencode({"system": system, "domain": "customer", "source_id": source_id})
        started = time.perf_counter()
        writer.write(
            f"GET /api/v1/xref/?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Api-Key {key}\r\n\r\n".encode()
        )
        status = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        errors += b" 200 " not in status
    writer.close()
    return errors


def _lookups(port: int, key: str, ids: list[tuple[str, str]], clients: int, per_client: int) -> None:
    # The clients are coroutines on raw sockets in one process: an HTTP library's own Python (httpx
    # took about as much CPU per request as the server) would be what is measured on two cores.
    latencies: list[float] = []

    async def run() -> int:
        return sum(
            await asyncio.gather(*(_client(port, key, ids, per_client, latencies) for _ in range(clients)))
        )

    started = time.perf_counter()
    errors = asyncio.run(run())
    seconds = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"xref look-up, {clients} concurrent clients, {len(latencies)} requests, {errors} errors: "
          f"median {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
          f"{len(latencies) / seconds:.0f} look-ups/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--keep", action="store_true", help="look-ups only, against what the database holds")
    args = parser.parse_args()
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
         "--workers", str(args.workers), "--threads", str(args.threads), "--worker-class", "gthread",
         "--log-level", "warning"],
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
        for clients in args.clients:
            _lookups(args.port, key, ids, clients=clients, per_client=args.requests // clients)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
