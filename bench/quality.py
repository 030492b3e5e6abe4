"""Match-quality benchmark: the labelled customer set through the hub's real ingest and matching.

    python bench/quality.py [--database-url URL] [--no-splink] [--data FOLDER]

Loads ../shared/bench/customers/*.csv (or another labelled set in its columns: `--data`, such as the
individuals `bench/people.py` writes) with `import_records` (each chunk resolved incrementally, as in
production), exports the cross-reference and scores it; then re-resolves the domain in batch
(`resolve customer`) and scores again, with the agreement between the two modes. The first load starts
from an empty hub, so its model is refitted as the domain fills up; a second load into a fresh hub
keeps the batch run's model throughout (`--replay`, in a process of its own), which gives the two
modes' agreement when both weigh with one model, as they do once a domain holds its data. Beside it,
the Splink baseline (bench/splink_baseline.py) on the same records. Prints one table.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._hub import DATA, SYSTEMS, fresh_hub, scorer, splink_baseline


def _export(path: Path) -> dict[tuple[str, str], str]:
    from django.core.management import call_command

    call_command("export_xref", "customer", "-o", str(path))
    return scorer().load(str(path), "golden_id")


def _pairs(xref: dict[tuple[str, str], str]) -> set[tuple]:
    clusters: dict[str, list] = {}
    for key, golden in xref.items():
        clusters.setdefault(golden, []).append(key)
    return {tuple(sorted(p)) for members in clusters.values() for p in combinations(sorted(members), 2)}


def _agreement(a: dict, b: dict) -> float:
    """Share of pairs placed together by either mode that both modes place together."""
    pa, pb = _pairs(a), _pairs(b)
    union = pa | pb
    return len(pa & pb) / len(union) if union else 1.0


def _blocking_recall(truth: dict[tuple[str, str], str]) -> float:
    """Share of true pairs whose records share at least one stored blocking key."""
    from matching.models import BlockingKey

    keys: dict[tuple[str, str], set[str]] = {}
    rows = BlockingKey.objects.filter(domain="customer").values_list(
        "record__system__code", "record__source_id", "key"
    )
    for system, source_id, key in rows.iterator(chunk_size=20000):
        keys.setdefault((system, source_id), set()).add(key)
    true_pairs = _pairs(truth)
    found = sum(1 for a, b in true_pairs if keys.get(a, set()) & keys.get(b, set()))
    return found / len(true_pairs) if true_pairs else 1.0


def _recompute_golden_records() -> str:
    """Survivorship over every customer golden record after resolution (pins, rules, lineage, events)."""
    from mdm.golden import rebuild_many
    from mdm.models import GoldenRecord, SourceRecord

    ids = list(GoldenRecord.objects.filter(domain="customer", status="active").values_list("pk", flat=True))
    sources = SourceRecord.objects.filter(domain="customer").count()
    started = time.perf_counter()
    for start in range(0, len(ids), 2000):
        rebuild_many(ids[start : start + 2000], reason="benchmark: recompute")
    seconds = time.perf_counter() - started
    rate = f"{sources / seconds:.0f} source records/s, {len(ids) / seconds:.0f} golden records/s"
    return f"golden records recomputed: {len(ids)} from {sources} source records in {seconds:.1f}s = {rate}"


def _open_reviews() -> int:
    from matching.models import ReviewTask

    return ReviewTask.objects.filter(domain="customer", status="open").count()


def _load_incrementally(var: Path, data: Path) -> tuple[dict[tuple[str, str], str], dict]:
    """Every system's file through `import_records`, each chunk resolved as it lands; the
    cross-reference and its figures."""
    from django.core.management import call_command

    started = time.perf_counter()
    for system in SYSTEMS:
        call_command(
            "import_records",
            system,
            "customer",
            str(data / f"{system}.csv"),
            verbosity=0,
            stdout=io.StringIO(),
        )
    seconds = time.perf_counter() - started
    xref = _export(var / "xref-incremental.csv")
    score = scorer()
    truth = score.load(str(data / "truth.csv"), "entity_id")
    figures = {**score.score(truth, xref), "reviews": _open_reviews(), "wall_seconds": round(seconds, 1)}
    return xref, figures


def _replay(model_path: Path, data: Path) -> None:
    """In a fresh hub whose customer model is the one given: the incremental load, its cross-reference
    written beside the model; prints its figures as JSON."""
    from matching.model import MatchModel
    from matching.services import _store_model, match_config

    _store_model(match_config("customer"), MatchModel.from_dict(json.loads(model_path.read_text())))
    _, figures = _load_incrementally(model_path.parent, data)
    print(json.dumps(figures))


def _replayed(database_url: str | None, model: dict, data: Path) -> tuple[dict, dict]:
    """`_replay` in a process of its own, on a database of its own; its cross-reference and figures."""
    with tempfile.TemporaryDirectory(prefix="mdm-replay-") as folder:
        replay = Path(folder)
        (replay / "model.json").write_text(json.dumps(model))
        command = [sys.executable, __file__, "--replay", str(replay / "model.json"), "--data", str(data)]
        if database_url:
            command += ["--database-url", f"{database_url}_replay"]
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)  # its errors show
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        return scorer().load(str(replay / "xref-incremental.csv"), "golden_id"), figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--data", type=Path, default=DATA, help="a labelled set in the benchmark's columns")
    parser.add_argument("--replay", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    var = fresh_hub(args.database_url)
    if args.replay:
        _replay(args.replay, args.data)
        return
    from django.core.management import call_command
    from django.db import connection

    from matching.services import match_config

    score = scorer()
    truth = score.load(str(args.data / "truth.csv"), "entity_id")
    rows: list[tuple[str, dict]] = []

    incremental, figures = _load_incrementally(var, args.data)
    rows.append(("hub incremental", figures))
    blocking_recall = _blocking_recall(truth)

    started = time.perf_counter()
    call_command("resolve", "customer", stdout=io.StringIO())
    batch_seconds = time.perf_counter() - started
    batch = _export(var / "xref-batch.csv")
    rows.append(("hub batch", {**score.score(truth, batch), "reviews": _open_reviews(),
                               "wall_seconds": round(batch_seconds, 1)}))  # fmt: skip
    survivorship = _recompute_golden_records()
    steady, figures = _replayed(args.database_url, match_config("customer").model, args.data)
    rows.append(("hub incr., model", figures))
    for _, figures in rows:
        figures["blocking_recall"] = round(blocking_recall, 4)

    if not args.no_splink:
        rows.append(("splink", splink_baseline(args.data, var / "splink-xref.csv")))

    print(f"database: {connection.vendor}; records: {len(truth)}; true entities: {len(set(truth.values()))}")
    columns = ("precision", "recall", "f1", "bcubed_f1", "blocking_recall", "reviews", "wall_seconds")
    print(f"{'':18}" + "".join(f"{c:>16}" for c in columns))
    for name, figures in rows:
        print(f"{name:18}" + "".join(f"{figures.get(c, '-')!s:>16}" for c in columns))
    refitted, one = _agreement(incremental, batch), _agreement(steady, batch)
    print("incremental vs batch agreement (pairs):")
    print(f"  model refitted as the domain fills up {refitted:.4f}; one model for both {one:.4f}")
    print(f"review tasks per record: {rows[1][1]['reviews'] / len(truth):.3%}")
    print(survivorship)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"hub peak memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
