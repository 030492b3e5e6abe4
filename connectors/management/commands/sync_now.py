"""`manage.py sync_now CONNECTION DOMAIN [--full]`: run one sync in this process and print its counts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.models import Connection, SyncRun
from connectors.sync import sync_execute


class Command(BaseCommand):
    help = "Pull one domain of one connection now, in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("connection", help="connection name")
        parser.add_argument("domain")
        parser.add_argument("--full", action="store_true", help="read everything again from the start")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = Connection.objects.filter(name=options["connection"]).first()
        if connection is None:
            raise CommandError(f"No connection {options['connection']!r}.")
        # Created directly rather than through sync_start: the run happens here, not in a worker.
        run = SyncRun.objects.create(
            connection=connection, domain=options["domain"], full=options["full"], trigger="command"
        )
        run = sync_execute(run.pk)
        self.stdout.write(
            f"{run.status}: read {run.read}, created {run.created}, updated {run.updated}, "
            f"unchanged {run.unchanged}, stale {run.stale}, quarantined {run.quarantined} "
            f"in {run.pages} pages [correlation_id={run.correlation_id}]"
        )
        for error in run.errors:
            self.stderr.write(str(error.get("error")))
        if run.status != "succeeded":
            raise CommandError("The sync failed.")
