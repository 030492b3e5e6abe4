"""End to end: a steward works the queue in a real browser; a viewer is refused every write and sees masks.

The hub is served by live_server on 127.0.0.1 and every task it enqueues runs on a real Celery worker
subprocess (tests.e2e.conftest.hub_worker) over Redis, on the same PostgreSQL test database.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from matching.models import Judgement, ReviewTask
from mdm.apikeys import issue_key
from mdm.ingest import ingest_records
from mdm.models import GoldenRecord, SourceRecord
from tests.e2e.conftest import namesake_pairs, wait_until
from tests.stewardship.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
VIEWPORT = {"width": 1366, "height": 768}


def sign_in(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(viewport=VIEWPORT, base_url=base)
    page = context.new_page()
    page.goto("/review/")
    assert "/signin/" in page.url, "the queue asks anonymous users to sign in"
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/review/"))
    return page


def api(playwright_request: Any, base: str, key: str, path: str) -> Any:
    return playwright_request.get(base + path, headers={"Authorization": f"Api-Key {key}"}, max_redirects=0)


def open_count() -> int:
    return ReviewTask.objects.filter(status=ReviewTask.Status.OPEN).count()


def ingest_doubtful_pairs(systems: dict[str, Any], n: int) -> list[int]:
    """Ingest `n` doubtful pairs through the real path; the worker resolves them and opens the reviews."""
    full, sparse = namesake_pairs(n)
    ids = []
    for system, payloads in ((systems["erp"], full), (systems["crm"], sparse)):
        report = ingest_records(system=system, domain="customer", payloads=payloads, received_via="e2e")
        ids += [o.record_id for o in report.outcomes]
    wait_until(
        lambda: not SourceRecord.objects.filter(pk__in=ids, golden__isnull=True).exists(),
        "the worker places every ingested record",
    )
    wait_until(lambda: open_count() == n, f"matching opens {n} review tasks", timeout=30)
    return ids


def test_worker_resolves_records_and_steward_decides_by_keyboard(
    browser, live_server, hub_worker, personas, systems, shoot
):
    base = live_server.url
    # Test data through the real path: ingest, then the worker's matching opens one review per pair.
    ingest_doubtful_pairs(systems, 3)
    pairs = {
        (t.left.source_id, t.right.source_id) for t in ReviewTask.objects.select_related("left", "right")
    }
    assert pairs == {("E0", "C0"), ("E1", "C1"), ("E2", "C2")}

    # A record sent to the REST batch endpoint served by live_server is placed by the worker.
    _, key = issue_key(system=systems["crm"], name="e2e", scopes=["read", "write"])
    page = sign_in(browser, base, "steward")
    rest = page.context.request
    answer = rest.post(
        base + "/api/v1/systems/crm/customer/records/",
        headers={"Authorization": f"Api-Key {key}"},
        data={"records": [{"source_id": "C-NEW", "name": "Pellucid Orchards", "country": "NZ"}]},
    )
    assert answer.status == 200, answer.text()
    assert answer.json()["counts"]["created"] == 1
    # Eager execution is off in this process: only the worker can place the record.
    record = SourceRecord.objects.get(system=systems["crm"], source_id="C-NEW")
    wait_until(
        lambda: SourceRecord.objects.filter(pk=record.pk, golden__isnull=False).exists(),
        "the worker places the record sent to the REST endpoint",
    )
    golden = SourceRecord.objects.get(pk=record.pk).golden
    assert golden.name == "Pellucid Orchards"

    # Keyboard only: Enter opens the first task, m merges, x rejects, m merges; then the queue is empty.
    page.goto("/review/")
    assert page.locator("table.queue tbody tr").count() == 3
    first = page.locator("table.queue tbody tr").first.get_attribute("data-href")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(first)
    for key_name in ("m", "x", "m"):
        with page.expect_navigation():
            page.keyboard.press(key_name)
    page.wait_for_url(re.compile(r"/review/(\?.*)?$"))
    assert "The queue is empty" in page.inner_text(".messages")
    assert open_count() == 0
    assert Judgement.objects.filter(verdict="no_match").count() == 1
    merged = ReviewTask.objects.filter(status=ReviewTask.Status.MERGED)
    assert merged.count() == 2
    for task in merged.select_related("left", "right"):
        task.left.refresh_from_db()
        task.right.refresh_from_db()
        assert task.left.golden_id == task.right.golden_id
    page.context.close()


def test_steward_walks_100_reviews_with_the_keyboard_alone(
    browser, live_server, hub_worker, personas, systems
):
    n = 100
    ingest_doubtful_pairs(systems, n)
    page = sign_in(browser, live_server.url, "steward")
    assert page.inner_text("#total").strip() == str(n)

    started = time.monotonic()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # nothing selected: Enter opens the first task
    seen = []
    for index in range(n):
        match = re.search(r"/review/(\d+)/", page.url)
        assert match, f"decision {index}: no task open at {page.url}"
        seen.append(int(match.group(1)))
        with page.expect_navigation():
            page.keyboard.press("x" if index % 2 else "m")
    elapsed = time.monotonic() - started

    assert re.search(r"/review/(\?.*)?$", page.url), page.url
    assert "The queue is empty" in page.inner_text(".messages")
    assert len(set(seen)) == n, "each decision opened a task not seen before"
    assert open_count() == 0
    assert ReviewTask.objects.filter(status=ReviewTask.Status.MERGED).count() == n // 2
    assert Judgement.objects.filter(verdict="no_match").count() == n - n // 2
    # Every merge retired one golden record of its pair.
    assert GoldenRecord.objects.filter(domain="customer", status="active").count() == 2 * n - n // 2
    print(f"\nkeyboard walk: {n} review tasks in {elapsed:.1f} s ({elapsed / n * 1000:.0f} ms per task)")
    page.context.close()


def test_steward_merges_rejects_splits_and_pins(
    browser, live_server, hub_worker, review_data, personas, systems, shoot
):
    # review_data holds hand-made ReviewTask rows over ingested records (tests.stewardship.conftest):
    # this test asserts the queue order (a lower-scoring pair with an open contract ahead of a
    # higher-scoring one) and one waterfall bar per stored contribution, which need scores and
    # explanations the test sets, not ones the engine happens to compute.
    base = live_server.url
    _, key = issue_key(system=systems["crm"], name="e2e", scopes=["read"])
    page = sign_in(browser, base, "steward")
    rest = page.context.request

    # The queue: the customer with an open contract first, although the other pair scores higher.
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    assert "Northwind" in rows.nth(0).inner_text()
    assert "open contract" in rows.nth(0).inner_text()
    shoot(page, "01-review-queue")

    # Keyboard: j selects the first row, Enter opens it.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/review/{review_data['northwind'].pk}/"))
    assert page.locator("svg.waterfall g.bar").count() == 6, "one bar per contribution"
    assert page.locator("table.compare tr.differs").count() >= 1
    shoot(page, "02-review-compare")

    # Merge, keeping the ERP record's golden ID; the next task opens.
    survivor = str(review_data["nw_erp"].golden_id)
    retired = str(review_data["nw_crm"].golden_id)
    page.check(f"input[name=survivor][value='{survivor}']")
    page.fill("#merge-form input[name=reason]", "same company, ERP ID is the one billing holds")
    page.click("#merge-button")
    page.wait_for_url(re.compile(rf"/review/{review_data['contoso'].pk}/"))
    assert "Merged into golden record" in page.inner_text(".messages")

    # Not a match, by keyboard; the queue is then empty.
    page.fill("#reject-form input[name=reason]", "Contoso Pharma is another company")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("x")
    page.wait_for_url(re.compile(r"/review/(\?.*)?$"))
    assert "The queue is empty" in page.inner_text(".messages")
    assert rest.get(base + "/api/v1/steward/tasks/").json()["count"] == 0
    cont = sorted((review_data["cont_crm"].pk, review_data["cont_erp"].pk))
    assert Judgement.objects.get(left_id=cont[0], right_id=cont[1]).verdict == "no_match"

    # The merge over the REST API: the retired ID answers with the survivor.
    answer = api(rest, base, key, f"/api/v1/golden/{retired}/")
    assert answer.status == 301 and answer.json()["survivor_id"] == survivor
    detail = api(rest, base, key, f"/api/v1/golden/{survivor}/").json()
    assert {r["source_id"] for r in detail["source_records"]} == {"001A", "C-100"}

    # The golden record page: both sources, the merge in the history timeline.
    page.goto(f"/golden/{retired}/")
    page.wait_for_url(re.compile(rf"/golden/{survivor}/"))
    assert page.locator("#members tbody tr").count() == 2
    assert "steward merge" in page.inner_text("#timeline")
    shoot(page, "03-golden-record")

    # Split the CRM record out (a comment is required) into a new golden ID.
    crm_row = page.locator("#members tr[data-source='crm:001A']")
    crm_row.locator(".split-form input[name=reason]").fill("CRM account is the parent, not this entity")
    crm_row.locator(".split-form button").click()
    page.wait_for_load_state()
    assert "Split into a new golden record" in page.inner_text(".messages")
    new_id = page.inner_text("#golden-id").strip()
    assert new_id != survivor
    xref = api(rest, base, key, "/api/v1/xref/?system=crm&domain=customer&source_id=001A").json()
    assert xref["golden_id"] == new_id
    xref = api(rest, base, key, "/api/v1/xref/?system=erp&domain=customer&source_id=C-100").json()
    assert xref["golden_id"] == survivor

    # Pin a name on the survivor; it wins survivorship and shows as pinned.
    page.goto(f"/golden/{survivor}/")
    page.click("#pin summary")
    page.select_option("#pin-form select[name=attribute]", "name")
    page.fill("#pin-form input[name=value]", "Northwind Traders (US)")
    page.fill("#pin-form input[name=reason]", "name confirmed by the account manager")
    page.click("#pin-form button")
    page.wait_for_load_state()
    name_row = page.locator("#attributes tr[data-attribute='name']")
    assert "Northwind Traders (US)" in name_row.inner_text() and "pinned" in name_row.inner_text()
    detail = api(rest, base, key, f"/api/v1/golden/{survivor}/").json()
    assert detail["attributes"]["name"] == "Northwind Traders (US)"
    assert detail["pins"] == {"name": "Northwind Traders (US)"}
    shoot(page, "04-golden-record-pinned")

    # The other pages render and are screenshotted.
    page.goto("/search/")
    page.fill("#q", "91-1234567")
    page.wait_for_selector("#results a")
    assert "Northwind Traders (US)" in page.inner_text("#results")
    shoot(page, "05-search")
    page.goto("/dashboard/")
    assert page.locator("svg.histogram").count() == 2
    shoot(page, "06-dashboard")
    page.goto("/sync/")
    shoot(page, "07-sync-monitor")
    page.context.close()


def test_viewer_is_refused_every_write_and_sees_masks(
    browser, live_server, hub_worker, review_data, personas, shoot
):
    base = live_server.url
    page = sign_in(browser, base, "viewer")
    assert page.locator("#merge-button").count() == 0
    rest = page.context.request
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    headers = {"X-CSRFToken": token, "Referer": base + "/review/"}
    task = review_data["northwind"].pk
    golden = review_data["nw_crm"].golden_id
    record = review_data["nw_crm"].pk
    writes = [
        f"/review/{task}/merge/",
        f"/review/{task}/reject/",
        "/review/bulk-accept/",
        f"/golden/{golden}/pin/",
        f"/golden/{golden}/unpin/",
        f"/records/{record}/split/",
        f"/records/{record}/move/",
        "/sync/quarantine/1/replay/",
        f"/api/v1/steward/tasks/{task}/merge/",
        f"/api/v1/steward/tasks/{task}/reject/",
        "/api/v1/steward/tasks/bulk-accept/",
        f"/api/v1/steward/golden/{golden}/pin/",
        f"/api/v1/steward/golden/{golden}/unpin/",
        f"/api/v1/steward/records/{record}/split/",
        f"/api/v1/steward/records/{record}/move/",
        "/api/v1/steward/quarantine/1/replay/",
        "/sync/deliveries/1/replay/",
        "/api/v1/steward/deliveries/1/replay/",
    ]
    for path in writes:
        response = rest.post(
            base + path, headers=headers, form={"reason": "x", "attribute": "name", "value": "x"}
        )
        assert response.status == 403, path
    assert SourceRecord.objects.get(pk=record).golden_id == golden

    page.goto(f"/golden/{review_data['person'].golden_id}/")
    html = page.content()
    for secret in ("jane.doe@example.org", "1980-02-03", "Jane", "Doe"):
        assert secret not in html, secret
    assert "•••" in html
    shoot(page, "08-viewer-masked-golden")
    page.goto(f"/review/{task}/")
    assert "sales@northwind-traders.com" not in page.content()
    shoot(page, "09-viewer-compare")
    page.context.close()
