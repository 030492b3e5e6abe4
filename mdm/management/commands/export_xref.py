"""`manage.py export_xref DOMAIN -o FILE.csv`: the cross-reference as system,source_id,golden_id."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mdm.choices import Domain
from mdm.selectors import xref_csv_lines


class Command(BaseCommand):
    help = "Write the cross-reference of DOMAIN as CSV (system,source_id,golden_id)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domain", choices=Domain.values)
        parser.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path | None = options["output"]
        handle = output.open("w", newline="") if output else sys.stdout
        try:
            for lines in xref_csv_lines(options["domain"]):
                handle.write(lines)
        finally:
            if output:
                handle.close()
