"""A real browser (Debian's Chromium via Playwright) against the hub served by live_server on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make there
# are still synchronous, so Django's async-safety guard is lifted for these tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

from tests.conftest import reset_producers
from tests.stewardship.conftest import personas, review_data, systems  # noqa: F401

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def shoot() -> Any:
    """Save a full-window screenshot of `page` as screenshots/<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page: Any, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)

    return take


# ------------------------------------------------------------------------------------------ a real worker
HUB_BROKER = "redis://127.0.0.1:6379/6"  # a Redis database of its own: no other worker takes these tasks


@pytest.fixture
def hub_worker(celery_worker: str, live_server: Any) -> str:
    """The hub served on 127.0.0.1 with its tasks running on a real Celery worker."""
    return celery_worker


@pytest.fixture
def celery_worker(transactional_db: Any) -> Iterator[str]:
    """A Celery worker subprocess on the test database, and the hub's tasks sent to it through Redis.

    The test process (and the live server thread in it) runs with CELERY_TASK_ALWAYS_EAGER=true from the
    environment; for the duration of the test the Celery app sends to HUB_BROKER instead of running
    tasks in-process, so every task the live server enqueues runs on the worker.
    """
    from django.conf import settings
    from django.db import connection

    from config.celery import app

    if connection.vendor != "postgresql":
        pytest.fail("the worker needs the PostgreSQL test database (DATABASE_URL)")
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": HUB_BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "2"]
    command += ["--pool", "prefork", "--loglevel", "warning", "--without-gossip", "--without-mingle"]
    hostname = f"steward-e2e-{os.getpid()}@{socket.gethostname()}"
    command += ["--hostname", hostname]
    # The broker database is this fixture's own: empty it of what an earlier test may have left (the
    # worker's --purge would race with the first tasks sent while it starts).
    redis.Redis.from_url(HUB_BROKER).flushdb()
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    saved = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = HUB_BROKER
    reset_producers(app)
    try:
        deadline = time.monotonic() + 60
        with app.connection_for_write(HUB_BROKER) as conn:
            while not app.control.ping([hostname], timeout=0.5, connection=conn):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the Celery worker did not come up ({process.returncode})")
        yield HUB_BROKER
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        reset_producers(app)
        process.terminate()
        process.wait(timeout=30)


def wait_until(check: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting: {what}")


def namesake_pairs(n: int, offset: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`n` doubtful pairs as matching sees them: a full ERP record and a sparse CRM record of one name.

    The sparse record has only the name and the country, so the engine neither links nor separates it:
    it opens a review task for each pair. Invented words keep the names of different pairs apart.
    """
    cons, vows = "bdfgklmnprstvz", "aeiou"

    def word(i: int) -> str:
        return (
            f"{cons[i % 14].upper()}{vows[(i // 14) % 5]}{cons[(i * 7 + 3) % 14]}{vows[(i * 3 + 1) % 5]}"
            f"{cons[(i // 70) % 14]}{vows[i % 5]}n"
        )

    full, sparse = [], []
    for k in range(offset, offset + n):
        first, second = word(2 * k), word(2 * k + 1)
        name = f"{first} {second} Inc."
        full.append(
            {
                "source_id": f"E{k}",
                "name": name,
                # identifiers spread out: numbers one digit apart would read as typos of each other
                "tax_id": f"84-{(k * 7919 + 1234567) % 10**7:07d}",
                "website": f"{first}-{second}.com".lower(),
                "phone": f"+1 611 {(k * 37) % 800 + 200:03d} {(k * 7919) % 10**4:04d}",
                "address_line1": f"{k + 1} {second} Street",
                "city": "Austin",
                "country": "US",
            }
        )
        sparse.append({"source_id": f"C{k}", "name": name, "country": "US"})
    return full, sparse
