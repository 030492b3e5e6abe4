"""`manage.py demo`: the embedded hub with demo data, served on 127.0.0.1.

Migrates, creates a demo steward, loads the demo records of several systems through the real ingest
(which resolves them), and serves the API, the admin and the console.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from mdm.models import CodeMapping, SourceSystem
from mdm.reference import map_code

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
# Load order matters: customers before the contracts and entitlements that name them.
DOMAIN_ORDER = ("customer", "product", "contract", "entitlement")
USERNAME = PASSWORD = "steward"


class Command(BaseCommand):
    help = "Run the embedded hub with demo data on 127.0.0.1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="load the demo data and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", verbosity=0, interactive=False)
        call_command("collectstatic", verbosity=0, interactive=False)
        self._steward()
        if not SourceSystem.objects.exists():
            self._load()
        stand_ins = self._sync_with_stand_ins()
        url = f"http://127.0.0.1:{options['port']}"
        self.stdout.write(
            self.style.SUCCESS(
                f"\nThe hub is up.\n  steward console: {url}/\n  admin: {url}/admin/\n"
                f"  API docs: {url}/api/docs/\n"
                f"  sign in as {USERNAME} / {PASSWORD}\n  SaaS stand-ins (demo data, in this process):\n"
                + "".join(f"    {vendor:<11}{base}\n" for vendor, base in stand_ins.items())
            )
        )
        if not options["no_serve"]:
            call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False)

    def _sync_with_stand_ins(self) -> dict[str, str]:
        """Start the vendor stand-ins, connect to each, pull once, and deliver the golden records back."""
        from connectors.delivery import relay_outbox
        from connectors.models import SyncRun
        from connectors.sandbox import connect, run_all
        from connectors.sync import sync_execute

        sandboxes = run_all()
        for connection in connect(sandboxes).values():
            for domain in connection.sync_domains:
                run = sync_execute(SyncRun.objects.create(connection=connection, domain=domain).pk)
                self.stdout.write(f"pulled {connection.name} {domain}: {run.status}, {run.read} read")
        relay_outbox()  # tasks run in-process here: the deliveries are pushed before this returns
        return {vendor: sandbox.base_url for vendor, sandbox in sandboxes.items()}

    def _steward(self) -> None:
        user_model = get_user_model()
        if not user_model.objects.filter(username=USERNAME).exists():
            user_model.objects.create_superuser(USERNAME, "steward@example.com", PASSWORD)

    def _load(self) -> None:
        files = sorted(
            DEMO_DIR.glob("*-*.csv"), key=lambda p: (DOMAIN_ORDER.index(p.stem.split("-")[0]), p.name)
        )
        for path in files:
            domain, system = path.stem.split("-", 1)
            if domain == "contract" and not CodeMapping.objects.exists():
                self._map_codes()
            call_command("import_records", system, domain, str(path), verbosity=0, stdout=self.stdout)

    def _map_codes(self) -> None:
        """The catalogue team's mappings: one product under each system's code."""
        with (DEMO_DIR / "mappings.csv").open(newline="") as handle:
            for row in csv.DictReader(handle):
                system = SourceSystem.objects.get(code=row["system"])
                map_code(system=system, code=row["code"], canonical=row["canonical_code"], owner=row["owner"])
