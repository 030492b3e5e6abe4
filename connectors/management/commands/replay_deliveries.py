"""`manage.py replay_deliveries [--connection NAME] [ID ...]`: put dead deliveries back in line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.delivery import deliveries_replay
from connectors.models import Connection


class Command(BaseCommand):
    help = "Replay dead-lettered deliveries (all, some IDs, or one connection's)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int)
        parser.add_argument("--connection", help="only this connection's dead deliveries")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = None
        if options["connection"]:
            connection = Connection.objects.filter(name=options["connection"]).first()
            if connection is None:
                raise CommandError(f"No connection {options['connection']!r}.")
        replayed = deliveries_replay(ids=options["ids"] or None, connection=connection)
        self.stdout.write(f"replayed {len(replayed)} deliveries")
