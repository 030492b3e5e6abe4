"""`manage.py import_records SYSTEM DOMAIN FILE.csv`: load a CSV of canonical columns through ingest."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from mdm.choices import Domain, SystemKind
from mdm.ingest import IngestReport, chunked, ingest_records
from mdm.models import SourceSystem


class Command(BaseCommand):
    help = "Load a CSV file of canonical columns as records of SYSTEM in DOMAIN (creates SYSTEM if new)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("system", help="source system code, e.g. crm")
        parser.add_argument("domain", choices=Domain.values)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--kind", choices=SystemKind.values, help="kind of a new system (default: guessed)"
        )
        parser.add_argument("--no-resolve", action="store_true", help="load only; resolve later in batch")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        system = _system(options["system"], options["kind"])
        total = _count_rows(path)
        report = IngestReport()
        with (
            path.open(newline="", encoding="utf-8-sig") as handle,
            tqdm(total=total, unit="rec", disable=options["verbosity"] == 0, file=self.stderr) as bar,
        ):
            for chunk in chunked(csv.DictReader(handle), 1000):
                part = ingest_records(
                    system=system,
                    domain=options["domain"],
                    payloads=chunk,
                    received_via=f"csv:{path.name}",
                    resolve=not options["no_resolve"],
                )
                report.extend(part)
                bar.update(len(chunk))
        counts = report.counts
        summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
        self.stdout.write(f"{system.code}/{options['domain']}: {len(report.outcomes)} records: {summary}")
        for outcome in report.outcomes:
            if outcome.outcome == "quarantined":
                self.stdout.write(f"  quarantined {outcome.source_id or '(no id)'}: {outcome.reason}")


def _system(code: str, kind: str | None) -> SourceSystem:
    guessed = kind or (code if code in SystemKind.values else SystemKind.OTHER)
    system, _ = SourceSystem.objects.get_or_create(code=code, defaults={"name": code, "kind": guessed})
    return system


def _count_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
