"""End to end: a steward works the queue in a real browser; a viewer is refused every write and sees masks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from matching.models import Judgement
from mdm.apikeys import issue_key
from mdm.models import SourceRecord
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


def test_steward_merges_rejects_splits_and_pins(browser, live_server, review_data, personas, systems, shoot):
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


def test_viewer_is_refused_every_write_and_sees_masks(browser, live_server, review_data, personas, shoot):
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
