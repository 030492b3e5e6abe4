"""`manage.py resolve DOMAIN`: batch re-resolution of a whole domain; returns when it is done."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching import services
from matching.models import MatchRun
from matching.tasks import resolve_domain
from mdm.choices import Domain


class Command(BaseCommand):
    help = "Re-resolve every source record of DOMAIN and reconcile golden records; waits for the run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domain", choices=Domain.values)
        parser.add_argument(
            "--timeout", type=float, help="stop waiting after this many seconds (the run goes on)"
        )
        parser.add_argument(
            "--refresh-features",
            action="store_true",
            help="normalise every record again first (after an upgrade that changes the features)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = services.start_batch(options["domain"], refresh_features=options["refresh_features"])
        resolve_domain.delay(run.pk)
        deadline = time.monotonic() + options["timeout"] if options["timeout"] else None
        while True:
            run.refresh_from_db()
            if run.status != MatchRun.Status.RUNNING:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise CommandError(
                    f"run {run.pk} is still running ({run.progress:.0%}) after {options['timeout']:g}s; "
                    "it goes on on the workers"
                )
            time.sleep(0.5)
        if run.status == MatchRun.Status.FAILED:
            raise CommandError(f"run {run.pk} failed: {run.error}")
        stats = run.stats
        self.stdout.write(
            f"{run.domain}: {run.records} records -> {stats.get('clusters')} golden records, "
            f"{stats.get('reviews')} review tasks, {stats.get('candidate_pairs', '?')} candidate pairs "
            f"in {(run.finished_at - run.started_at).total_seconds():.1f}s"
        )
