"""Sync benchmark: inbound records per second through a connector into golden records, and the time from
a golden change to its delivery in each vendor stand-in with a real worker running.

    python bench/sync.py [--database-url postgres://postgres@127.0.0.1:5432/mdm_bench_sync]
                         [--records 20000] [--changes 20] [--broker redis://127.0.0.1:6379/11]

1. Inbound: a NetSuite stand-in filled with `--records` generated customers; one full sync run in this
   process (SuiteQL pages of 1000, ingest, resolution into golden records); prints records per second.
2. Outbound: the four stand-ins with their demo data, pulled once; then a Celery worker and Celery beat
   (outbox relay every second) on the same database. `--changes` times, a CRM update changes the golden
   record of a customer every system holds; prints median and p95 of the time from the golden change
   (its outbox event) to the write arriving at each stand-in. Everything runs on 127.0.0.1 and stops by
   itself.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._hub import ROOT, fresh_hub

# What each stand-in receives when the hub writes a customer back: (method, path pattern).
WRITES = {
    "netsuite": ("PATCH", r"/record/v1/customer/100300$"),
    "salesforce": ("PATCH", r"/sobjects/Account/001A000002$"),
    "stripe": ("POST", r"^/v1/customers/cus_C0nt0s0$"),
    "zendesk": ("POST", r"/organizations/create_or_update.json$"),
}


def _customers(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qui", "dor", "fen", "gal"]
    rows = []
    for i in range(n):
        # Four syllables spelling `i` in base 14: every company has a name of its own.
        word = "".join(syllables[(i // 14**k) % 14] for k in range(4)).capitalize()
        name = f"{word} {rng.choice(['Systems', 'Foods', 'Logistics', 'Labs', 'Textiles'])} {i}"
        rows.append(
            {
                "id": 200000 + i,
                "entityid": f"C{200000 + i}",
                "companyname": name,
                "legalname": f"{name} Ltd",
                "isperson": False,
                "vatregnumber": f"GB{100000000 + i}",
                "url": f"{word.lower()}{i}.example",
                "phone": f"+44 20 7{i:07d}",
                "creditholdoverride": "AUTO",
                "overduebalance": "0.00",
            }
        )
    return rows


def _pull(connection: Any) -> Any:
    from connectors.models import SyncRun
    from connectors.sync import sync_execute

    return sync_execute(SyncRun.objects.create(connection=connection, domain="customer", full=True).pk)


def inbound(records: int, *, resolve: bool) -> None:
    from config.celery import app
    from connectors.sandbox import connect
    from connectors.sandbox.netsuite import NetSuiteSandbox
    from mdm.models import GoldenRecord

    # Without --resolve the resolution tasks are queued in Redis (the worker started later purges them):
    # the figure is then the connector and ingest alone.
    app.conf.task_always_eager = resolve

    with NetSuiteSandbox(seed=False) as sandbox:
        for row in _customers(records):
            sandbox.put("customer", row)
        connection = connect({"netsuite": sandbox}, name="{vendor}-bulk", sync_domains=["customer"])[
            "netsuite"
        ]
        started = time.perf_counter()
        run = _pull(connection)
        seconds = time.perf_counter() - started
        connection.enabled = False  # its stand-in stops here; it receives no deliveries
        connection.save(update_fields=["enabled"])
    goldens = GoldenRecord.objects.filter(domain="customer").count()
    app.conf.task_always_eager = True
    what = "golden records" if resolve else "source records (resolution queued)"
    print(f"inbound NetSuite -> {what}: {run.read} records, {run.pages} pages, {seconds:.1f}s "
          f"= {run.read / seconds:.0f} records/s ({goldens} golden records; run {run.status})")  # fmt: skip
    if run.errors:
        print(f"  run errors: {str(run.errors)[:300]}")


def _celery(broker: str) -> list[subprocess.Popen]:
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    base = [sys.executable, "-m", "celery", "-A", "config"]
    schedule = Path(tempfile.mkdtemp(prefix="mdm-bench-beat-")) / "schedule"
    worker = ["worker", "--concurrency", "4", "--without-gossip", "--without-mingle", "--purge"]
    worker += ["--loglevel", "error", "--hostname", f"bench-sync-{os.getpid()}@%h"]
    beat = [
        "beat",
        "--loglevel",
        "error",
        "--max-interval",
        "1",
        "--pidfile",
        "",
        "--schedule",
        str(schedule),
    ]
    commands = [[*base, *worker], [*base, *beat]]
    return [subprocess.Popen(c, cwd=ROOT, env=env) for c in commands]


def outbound(changes: int, broker: str) -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from config.celery import app
    from connectors.sandbox import connect, run_all
    from mdm.ingest import ingest_records
    from mdm.models import OutboxEvent, SourceRecord

    sandboxes = run_all()
    connections = connect(sandboxes, sync_domains=["customer"])
    for connection in connections.values():
        _pull(connection)
    golden_id = SourceRecord.objects.get(system__code="crm", source_id="001A000002").golden_id
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name="connectors:relay-outbox").update(interval=every_second)
    from connectors.delivery import relay_outbox

    relay_outbox()  # the initial pull's events: delivered by the worker before the measured changes
    app.conf.task_always_eager = False
    app.conf.broker_url = broker
    processes = _celery(broker)
    latencies: dict[str, list[float]] = {vendor: [] for vendor in sandboxes}
    try:
        time.sleep(5)
        for i in range(changes):
            since = time.time()
            ingest_records(
                system=connections["salesforce"].system,
                domain="customer",
                received_via="bench",
                payloads=[{"source_id": "001A000002", "name": "Contoso", "phone": f"+49 30 55{i:05d}",
                           "updated_at": f"2030-01-01T00:{i // 60:02d}:{i % 60:02d}Z"}],
            )  # fmt: skip
            deadline = time.monotonic() + 30
            arrived: dict[str, float] = {}
            while len(arrived) < len(sandboxes) and time.monotonic() < deadline:
                for vendor, (method, path) in WRITES.items():
                    hits = [r.at for r in sandboxes[vendor].requests_to(path, method) if r.at >= since]
                    if hits and vendor not in arrived:
                        arrived[vendor] = min(hits)
                time.sleep(0.02)
            event = OutboxEvent.objects.filter(golden_id=golden_id, created_at__gte=_aware(since)).first()
            if event is None or len(arrived) < len(sandboxes):
                print(f"change {i}: not delivered everywhere in 30 s ({sorted(arrived)})")
                continue
            changed = event.created_at.timestamp()
            for vendor, at in arrived.items():
                latencies[vendor].append(at - changed)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        for sandbox in sandboxes.values():
            sandbox.stop()
    print(f"golden change -> write in the stand-in ({changes} changes; relay every 1 s, worker of 4):")
    for vendor, values in latencies.items():
        if values:
            values.sort()
            p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
            print(
                f"  {vendor:<10} median {statistics.median(values) * 1000:6.0f} ms   p95 {p95 * 1000:6.0f} ms"
            )


def _aware(timestamp: float) -> Any:
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/mdm_bench_sync")
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--resolve", action="store_true", help="resolve inbound records into golden records")
    args = parser.parse_args()
    os.environ["REDIS_URL"] = args.broker
    fresh_hub(args.database_url)
    inbound(args.records, resolve=args.resolve)
    outbound(args.changes, args.broker)


if __name__ == "__main__":
    main()
