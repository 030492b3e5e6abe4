"""Console pages and the steward API: roles checked on the server, CSRF enforced, personal data masked."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from matching.models import ReviewTask
from mdm.models import GoldenRecord

from .conftest import open_review, place

pytestmark = pytest.mark.django_db


def _pages(data):
    golden = data["nw_crm"].golden_id
    return [
        reverse("stewardship:queue"),
        reverse("stewardship:task", args=[data["northwind"].pk]),
        reverse("stewardship:golden", args=[golden]),
        reverse("stewardship:search") + "?q=northwind",
        reverse("stewardship:sync"),
        reverse("stewardship:dashboard"),
    ]


def test_anonymous_users_are_sent_to_sign_in(review_data):
    for url in _pages(review_data):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/signin/"), url


def test_a_user_without_a_role_is_refused(review_data, login):
    from .conftest import make_user

    client = login(make_user("nobody", None))
    for url in _pages(review_data):
        assert client.get(url).status_code == 403, url


def test_every_page_renders_for_a_viewer(review_data, personas, login):
    client = login(personas["viewer"])
    for url in _pages(review_data):
        assert client.get(url).status_code == 200, url


def test_queue_puts_customers_with_open_contracts_first_and_counts(review_data, personas, login):
    html = login(personas["steward"]).get(reverse("stewardship:queue")).content.decode()
    assert html.index("Northwind Traders") < html.index("Contoso")
    assert "open contract" in html
    high = login(personas["steward"]).get(reverse("stewardship:queue") + "?band=high").content.decode()
    assert "Contoso" in high and "Northwind" not in high
    assert 'id="total">1<' in high


def test_viewer_sees_masked_personal_data(review_data, personas, login):
    person = GoldenRecord.objects.get(pk=review_data["person"].golden_id)
    viewer = login(personas["viewer"]).get(reverse("stewardship:golden", args=[person.pk])).content.decode()
    steward = login(personas["steward"]).get(reverse("stewardship:golden", args=[person.pk])).content.decode()
    assert "jane.doe@example.org" in steward and "1980-02-03" in steward
    for secret in ("jane.doe@example.org", "1980-02-03", "Doe"):
        assert secret not in viewer
    task = login(personas["viewer"]).get(reverse("stewardship:task", args=[review_data["northwind"].pk]))
    assert "sales@northwind-traders.com" not in task.content.decode()


def test_viewer_sees_no_person_in_a_tasks_explanation(systems, personas, login):
    """The match explanation compares the two records' names and national IDs: for individuals these
    are personal data, masked on the compare screen and in the API as the attribute rows are; a steward
    reads them."""
    people = [
        {"source_id": f"P{n}", "party_type": "individual", "name": "Jane Doe", "national_id": "AB123456C"}
        for n in (1, 2)
    ]
    left, right = place(systems["crm"], "customer", *people)
    task = open_review(left, right, probability=0.8, score=4.0)
    task.explanation.append(
        {"field": "national_id", "level": "exact", "weight": 9.0, "left": "AB123456C", "right": "AB123456C"}
    )
    task.save()
    viewer = login(personas["viewer"]).get(reverse("stewardship:task", args=[task.pk])).content.decode()
    steward = login(personas["steward"]).get(reverse("stewardship:task", args=[task.pk])).content.decode()
    assert "Jane Doe" in steward and "AB123456C" in steward
    assert "Jane Doe" not in viewer and "AB123456C" not in viewer
    api = login(personas["viewer"]).get("/api/v1/steward/tasks/").content.decode()
    assert "AB123456C" not in api and "Jane Doe" not in api, "nor in the explanation the API returns"
    assert "AB123456C" in login(personas["steward"]).get("/api/v1/steward/tasks/").content.decode()


def test_viewer_is_refused_every_write(review_data, personas, login):
    client = login(personas["viewer"])
    client.get(reverse("stewardship:queue"))
    token = client.cookies["csrftoken"].value
    golden = review_data["nw_crm"].golden_id
    record = review_data["nw_crm"].pk
    console = [
        reverse("stewardship:task-merge", args=[review_data["northwind"].pk]),
        reverse("stewardship:task-reject", args=[review_data["northwind"].pk]),
        reverse("stewardship:bulk-accept"),
        reverse("stewardship:golden-pin", args=[golden]),
        reverse("stewardship:golden-unpin", args=[golden]),
        reverse("stewardship:record-split", args=[record]),
        reverse("stewardship:record-move", args=[record]),
        reverse("stewardship:quarantine-replay", args=[1]),
        reverse("stewardship:delivery-replay", args=[1]),
    ]
    for url in console:
        assert client.post(url, {"reason": "x"}, HTTP_X_CSRFTOKEN=token).status_code == 403, url
    api = [
        f"/api/v1/steward/tasks/{review_data['northwind'].pk}/merge/",
        f"/api/v1/steward/tasks/{review_data['northwind'].pk}/reject/",
        "/api/v1/steward/tasks/bulk-accept/",
        f"/api/v1/steward/records/{record}/split/",
        f"/api/v1/steward/records/{record}/move/",
        f"/api/v1/steward/golden/{golden}/pin/",
        f"/api/v1/steward/golden/{golden}/unpin/",
        "/api/v1/steward/quarantine/1/replay/",
        "/api/v1/steward/deliveries/1/replay/",
    ]
    for url in api:
        response = client.post(
            url, json.dumps({"reason": "x"}), content_type="application/json", HTTP_X_CSRFTOKEN=token
        )
        assert response.status_code == 403, url
    assert ReviewTask.objects.filter(status="open").count() == 2


def test_forms_without_csrf_token_are_refused(review_data, personas, login):
    client = login(personas["steward"])
    response = client.post(reverse("stewardship:task-reject", args=[review_data["northwind"].pk]))
    assert response.status_code == 403
    response = client.post(f"/api/v1/steward/tasks/{review_data['northwind'].pk}/reject/", {})
    assert response.status_code == 403
    assert ReviewTask.objects.get(pk=review_data["northwind"].pk).status == "open"


def test_merge_in_the_console_opens_the_next_task(review_data, personas, login):
    client = login(personas["steward"])
    client.get(reverse("stewardship:queue"))
    token = client.cookies["csrftoken"].value
    task = review_data["northwind"]
    keep = str(review_data["nw_crm"].golden_id)
    response = client.post(
        reverse("stewardship:task-merge", args=[task.pk]),
        {"survivor": keep, "reason": ""},
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("stewardship:task", args=[review_data["contoso"].pk])
    task.refresh_from_db()
    assert task.status == "merged"


def test_api_commands_and_error_shape(review_data, personas, login):
    client = login(personas["steward"])
    client.get(reverse("stewardship:queue"))
    token = client.cookies["csrftoken"].value

    def post(url, body):
        return client.post(url, json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=token)

    listed = client.get("/api/v1/steward/tasks/").json()
    assert [t["id"] for t in listed["results"]] == [review_data["northwind"].pk, review_data["contoso"].pk]
    response = post(f"/api/v1/steward/tasks/{review_data['northwind'].pk}/merge/", {"reason": "ok"})
    assert response.status_code == 200
    golden = response.json()["golden"]
    again = post(f"/api/v1/steward/tasks/{review_data['northwind'].pk}/merge/", {})
    assert again.status_code == 409 and again.json()["code"] == "task_closed"
    split = post(f"/api/v1/steward/records/{review_data['nw_erp'].pk}/split/", {})
    assert split.status_code == 400 and split.json()["code"] == "invalid"
    split = post(f"/api/v1/steward/records/{review_data['nw_erp'].pk}/split/", {"reason": "different entity"})
    assert split.status_code == 201 and split.json()["golden"]["id"] != golden["id"]
    pin = post(
        f"/api/v1/steward/golden/{golden['id']}/pin/",
        {"attribute": "email", "value": ["info@nw.example"], "reason": "r"},
    )
    assert pin.status_code == 200 and pin.json()["golden"]["attributes"]["email"] == ["info@nw.example"]


def test_viewer_api_reads_are_masked(review_data, personas, login):
    person = review_data["person"]
    open_review(person, review_data["cont_crm"], probability=0.6, score=1.0)
    body = login(personas["viewer"]).get("/api/v1/steward/tasks/").content.decode()
    assert "jane.doe@example.org" not in body and "Doe" not in body


def test_golden_page_as_of_shows_the_earlier_version(review_data, personas, login):
    from django.utils import timezone

    from stewardship import services

    golden = review_data["nw_crm"].golden_id
    before = timezone.now()
    services.golden_pin(
        golden_id=golden, attribute="name", value="Renamed Co", user=personas["steward"], reason="r"
    )
    client = login(personas["viewer"])
    now_html = client.get(reverse("stewardship:golden", args=[golden])).content.decode()
    then_html = client.get(
        reverse("stewardship:golden", args=[golden]), {"as_of": before.isoformat()}
    ).content.decode()
    assert "Renamed Co" in now_html and "steward pin name: r" in now_html
    assert "Renamed Co" not in then_html.split('id="timeline"')[0]
    assert "Northwind Traders" in then_html


def test_search_finds_by_name_tax_id_domain_email_and_source_id(review_data, personas, login):
    client = login(personas["steward"])
    for query in ("northwind", "91-1234567", "northwind-traders.com", "sales@northwind", "C-100"):
        html = client.get(reverse("stewardship:search"), {"q": query}).content.decode()
        assert "Northwind" in html, query
    assert "Northwind" not in client.get(reverse("stewardship:search"), {"q": "zzz"}).content.decode()


def test_sync_monitor_lists_quarantine_and_replays(systems, personas, login):
    from mdm.ingest import ingest_records
    from mdm.models import QuarantinedRecord

    ingest_records(
        system=systems["crm"],
        domain="customer",
        payloads=[{"source_id": "q1", "name": "Q", "birth_date": "soon"}],
        received_via="test",
        resolve=False,
    )
    q = QuarantinedRecord.objects.get(source_id="q1")
    client = login(personas["steward"])
    html = client.get(reverse("stewardship:sync")).content.decode()
    assert "q1" in html and "is not a date" in html
    token = client.cookies["csrftoken"].value
    client.post(reverse("stewardship:quarantine-replay", args=[q.pk]), HTTP_X_CSRFTOKEN=token)
    q.refresh_from_db()
    assert q.status == "discarded", "replayed as received, it fails again and is superseded by the new row"
    assert QuarantinedRecord.objects.filter(source_id="q1", status="open").count() == 1
