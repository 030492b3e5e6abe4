"""Console page latency at scale: the review queue and the golden record page, p50/p95 and query counts.

Fills a PostgreSQL database of its own with many source records (set-based INSERT … SELECT, two source
records per golden record, one contract golden record per 50 customers, open review tasks), then renders
each page N times through Django's test Client signed in as a steward, counting the SQL queries of each
request (CaptureQueriesContext). A page whose query count grows with the rows it shows has an N+1.

    .venv/bin/python bench/console.py --database-url postgres://postgres@127.0.0.1:5432/mdm_bench_console \
        --records 1000000 --requests 50
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._hub import fresh_hub

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mdm_bench_console"


def fill(records: int, tasks: int) -> None:
    """`records` customer source records over records/2 golden records, contracts, and open review tasks."""
    from django.db import connection

    goldens = records // 2
    contracts = goldens // 50
    with connection.cursor() as c:
        c.execute(
            "INSERT INTO mdm_sourcesystem (code, name, kind, trust, created_at) VALUES "
            "('crm', 'CRM', 'crm', '{}', now()), ('erp', 'ERP', 'erp', '{}', now()), "
            "('billing', 'Billing', 'billing', '{}', now())"
        )
        c.execute("SELECT code, id FROM mdm_sourcesystem")
        system = dict(c.fetchall())
        c.execute(
            "CREATE TEMP TABLE g_ids AS SELECT i, gen_random_uuid() AS id FROM generate_series(1, %s) i",
            [goldens],
        )
        c.execute("CREATE INDEX ON g_ids (i)")
        c.execute(
            """INSERT INTO mdm_goldenrecord (id, domain, status, name, attributes, lineage, pins, version,
                   created_at, updated_at)
               SELECT id, 'customer', 'active', 'Company ' || i || ' Ltd',
                   jsonb_build_object('name', 'Company ' || i || ' Ltd', 'country', 'US',
                                      'website', 'company' || i || '.com',
                                      'tax_id', '84-' || lpad(i::text, 7, '0')),
                   jsonb_build_object('name', jsonb_build_object('system', 'erp', 'rule', 'system ranking')),
                   '{}', 1, now(), now()
               FROM g_ids"""
        )
        for offset, code in enumerate(("erp", "crm")):
            c.execute(
                """INSERT INTO mdm_sourcerecord (system_id, domain, source_id, raw, attributes, features,
                       fingerprint, source_updated_at, golden_id, created_at, updated_at)
                   SELECT %s, 'customer', %s || i, a, a, '{}', md5(a::text), now(), id, now(), now()
                   FROM (SELECT i, id, jsonb_build_object('source_id', %s || i, 'name',
                         'Company ' || i || CASE WHEN %s = 0 THEN ' Ltd' ELSE '' END, 'country', 'US') AS a
                         FROM g_ids) s""",
                [system[code], code.upper() + "-", code.upper() + "-", offset],
            )
        c.execute(
            """INSERT INTO mdm_goldenrecord (id, domain, status, name, attributes, lineage, pins, version,
                   customer_id, created_at, updated_at)
               SELECT gen_random_uuid(), 'contract', 'active', 'Contract ' || i,
                   jsonb_build_object('status', CASE WHEN i %% 3 = 0 THEN 'expired' ELSE 'active' END,
                                      'start_date', '2026-01-01', 'end_date', '2026-12-31'),
                   '{}', '{}', 1, id, now(), now()
               FROM g_ids WHERE i %% 50 = 0 AND i <= %s""",
            [contracts * 50],
        )
        # Open review tasks between records of neighbouring golden records (as a sparse duplicate would).
        c.execute(
            """INSERT INTO matching_reviewtask (domain, left_id, right_id, score, probability, explanation,
                   status, impact, created_at)
               SELECT 'customer', l.id, r.id, 2 + (g.i %% 50) / 10.0, 0.5 + (g.i %% 49) / 100.0,
                   '[{"field": "prior", "level": "prior", "weight": -6.6},
                     {"field": "name", "level": "exact", "weight": 8.1}]'::jsonb, 'open', 0, now()
               FROM g_ids g
               JOIN mdm_sourcerecord l ON l.golden_id = g.id AND l.system_id = %s
               JOIN g_ids g2 ON g2.i = g.i + 1
               JOIN mdm_sourcerecord r ON r.golden_id = g2.id AND r.system_id = %s
               WHERE g.i %% %s = 1""",
            [system["erp"], system["crm"], max(1, goldens // tasks)],
        )
    # The queue ranks by the impact stored on each task, as the engine sets it when it opens one.
    from matching.models import ReviewTask
    from matching.services import refresh_review_impact

    pairs = ReviewTask.objects.filter(status="open").values_list("left__golden_id", "right__golden_id")
    refresh_review_impact({g for pair in pairs for g in pair})
    with connection.cursor() as c:
        c.execute("ANALYZE")


def measure(client, path: str, n: int) -> tuple[list[float], list[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries = [], []
    for _ in range(n):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        queries.append(len(captured.captured_queries))
    return times, queries


def report(label: str, times: list[float], queries: list[int]) -> float:
    ordered = sorted(times)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    print(
        f"{label:<28} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   max {ordered[-1]:7.1f} ms   "
        f"queries {min(queries)}-{max(queries)}"
    )
    return p95


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--records", type=int, default=1_000_000, help="customer source records")
    parser.add_argument("--tasks", type=int, default=5000, help="open review tasks")
    parser.add_argument("--requests", type=int, default=50, help="requests per page")
    args = parser.parse_args()

    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    os.environ.pop("REDIS_URL", None)
    fresh_hub(args.database_url)

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from matching.models import ReviewTask
    from mdm.models import GoldenRecord, SourceRecord
    from stewardship.roles import grant_role

    started = time.perf_counter()
    fill(args.records, args.tasks)
    print(
        f"filled in {time.perf_counter() - started:.0f} s: {SourceRecord.objects.count():,} source records, "
        f"{GoldenRecord.objects.count():,} golden records, "
        f"{ReviewTask.objects.filter(status='open').count():,} open review tasks"
    )
    user = get_user_model().objects.create_user("bench-steward", "s@example.com", "x")
    grant_role(user, "steward")
    client = Client()
    client.force_login(user)
    connection.force_debug_cursor = False

    rng = random.Random(6)
    with_contract = list(
        GoldenRecord.objects.filter(domain="contract").values_list("customer_id", flat=True)[:200]
    )
    goldens = [str(g) for g in rng.sample(with_contract, min(len(with_contract), 100))]
    task_ids = list(ReviewTask.objects.filter(status="open").values_list("pk", flat=True)[:100])

    client.get("/review/")  # warm the template cache and the connection
    print(f"{args.records:,} source records, {args.requests} requests per page:")
    worst = [
        report("GET /review/", *measure(client, "/review/", args.requests)),
        report("GET /review/?band=high", *measure(client, "/review/?band=high", args.requests)),
    ]
    for label, paths in (
        ("GET /review/<task>/", [f"/review/{t}/" for t in task_ids]),
        ("GET /golden/<id>/", [f"/golden/{g}/" for g in goldens]),
    ):
        times, queries = [], []
        for i in range(args.requests):
            t, q = measure(client, paths[i % len(paths)], 1)
            times += t
            queries += q
        worst.append(report(label, times, queries))
    print(f"worst p95 {max(worst):.1f} ms (target ≤ 300 ms)")


if __name__ == "__main__":
    main()
