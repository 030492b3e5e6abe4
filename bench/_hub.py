"""Shared set-up for the benchmarks: a fresh hub database, and the benchmark data's location."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "customers"
SYSTEMS = ("erp", "crm", "billing", "support")


def fresh_hub(database_url: str | None, *, keep: bool = False) -> Path:
    """Point Django at a new, migrated database (SQLite in a temp folder unless a URL is given).

    With `keep`, the database at the URL keeps what it holds (it is only migrated).
    """
    var = Path(tempfile.mkdtemp(prefix="mdm-bench-"))
    os.environ["MDM_VAR_DIR"] = str(var)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql" and not keep:
        # A clean slate: the benchmark owns this database.
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)
    return var
