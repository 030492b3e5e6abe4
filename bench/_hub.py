"""Shared set-up for the benchmarks: a fresh hub database, and the benchmark data's location."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "customers"
SYSTEMS = ("erp", "crm", "billing", "support")


def scorer() -> ModuleType:
    """The shared scorer (`score.load`, `score.score`), imported by path rather than copied."""
    spec = importlib.util.spec_from_file_location("score", DATA.parent / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def splink_baseline(data: Path, out: Path) -> dict:
    """Run `bench/splink_baseline.py` on the CSVs and truth in `data` in a process of its own (its
    memory is its own); its figures. DuckDB spills into ./.tmp, so it runs in the output's folder."""
    command = [sys.executable, str(ROOT / "bench" / "splink_baseline.py"), "--data", str(data.resolve())]
    command += ["--out", str(out), "--scorer", str(DATA.parent / "score.py"), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=out.parent)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database when it does not exist yet."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def fresh_hub(database_url: str | None, *, keep: bool = False) -> Path:
    """Point Django at a new, migrated database (SQLite in a temp folder unless a PostgreSQL URL is
    given; that database is created if it does not exist).

    With `keep`, the database at the URL keeps what it holds (it is only migrated).
    """
    var = Path(tempfile.mkdtemp(prefix="mdm-bench-"))
    os.environ["MDM_VAR_DIR"] = str(var)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    if database_url:
        _ensure_database(database_url)
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


class TreeMemory:
    """The most memory a process and its descendants held at one moment (Linux), sampled on a thread.

    The largest single process (``ru_maxrss``) understates a worker whose processes peak together,
    as when a batch run's model is fitted on one process while another prepares the pairs. Each
    process counts its proportional set size: pages the forked processes share count once in all.
    """

    INTERVAL = 0.5

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_bytes = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            self.peak_bytes = max(self.peak_bytes, sum(self._pss(pid) for pid in self._tree()))

    def _tree(self) -> set[int]:
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # the command name in parentheses may hold spaces: fields count from its end
                parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # a process that ended while the tree was read
        tree, grown = {self.pid}, True
        while grown:
            children = {pid for pid, parent in parents.items() if parent in tree} - tree
            tree |= children
            grown = bool(children)
        return tree

    @staticmethod
    def _pss(pid: int) -> int:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            return 0
        pss = next((line.split()[1] for line in rollup.splitlines() if line.startswith("Pss:")), "0")
        return int(pss) * 1024


@contextmanager
def celery_workers(processes: int, broker: str = "redis://127.0.0.1:6379/8") -> Iterator[TreeMemory]:
    """For the duration, the hub's tasks go through Redis to a Celery worker of `processes` processes;
    yields the sampler of the worker's memory (all its processes together).

    The worker works on the database this process uses (PostgreSQL: its URL is in the environment).
    """
    import redis

    from config.celery import app

    redis.Redis.from_url(broker).flushdb()  # the benchmark's own Redis database: nothing left over
    env = {**os.environ, "REDIS_URL": broker, "CELERY_TASK_ALWAYS_EAGER": "false"}
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", str(processes)]
    command += ["--loglevel", "warning", "--without-gossip", "--without-mingle", "--hostname", "bench@%h"]
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)  # its banner
    saved = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, broker
    app._pool = None  # send with the new broker URL, not a pooled connection to the old one
    memory = TreeMemory(worker.pid)
    try:
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None:
                raise RuntimeError("the Celery worker did not start")
            time.sleep(0.5)
        yield memory
    finally:
        memory.stop()
        app.conf.task_always_eager, app.conf.broker_url = saved
        app._pool = None
        worker.terminate()
        worker.wait(timeout=60)
