"""REST API: xref look-up, retired-ID redirect, batch ingest, key scoping, errors, schema, export."""

from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from mdm import golden as golden_service
from mdm.models import AuditEntry, SourceRecord

pytestmark = pytest.mark.django_db

ACME = {"source_id": "001A", "name": "Acme Widgets Inc.", "website": "acme-widgets.com", "country": "US"}


@pytest.mark.sqlite
def test_xref_lookup_answers_golden_id_and_record(crm, ingest, key_client):
    ingest(crm, "customer", ACME)
    record = SourceRecord.objects.get(source_id="001A")
    response = key_client(crm, "read").get(
        "/api/v1/xref/", {"system": "crm", "domain": "customer", "source_id": "001A"}
    )
    assert response.status_code == 200
    assert response.json()["golden_id"] == str(record.golden_id)
    assert response.json()["golden"]["name"] == "Acme Widgets Inc."


@pytest.mark.sqlite
def test_xref_lookup_of_unknown_record_is_404_with_code(crm, key_client):
    response = key_client(crm, "read").get(
        "/api/v1/xref/", {"system": "crm", "domain": "customer", "source_id": "x"}
    )
    assert response.status_code == 404
    assert response.json()["code"] == "source_record_not_found"


@pytest.mark.sqlite
def test_xref_lookup_of_a_record_not_yet_placed_answers_no_golden_id(crm, key_client):
    from mdm.ingest import ingest_records

    ingest_records(system=crm, domain="customer", payloads=[ACME], received_via="test", resolve=False)
    response = key_client(crm, "read").get(
        "/api/v1/xref/", {"system": "crm", "domain": "customer", "source_id": "001A"}
    )
    assert response.status_code == 200
    assert response.json()["golden_id"] is None and response.json()["golden"] is None


def test_xref_source_id_is_trimmed_as_documented(crm, ingest, key_client):
    ingest(crm, "customer", ACME)
    response = key_client(crm, "read").get(
        "/api/v1/xref/", {"system": "crm", "domain": "customer", "source_id": " 001A "}
    )
    assert response.status_code == 200 and response.json()["source_id"] == "001A"


def test_bad_query_is_400_with_details(crm, key_client):
    response = key_client(crm, "read").get("/api/v1/xref/", {"system": "crm", "domain": "planet"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "domain" in body["details"] and "source_id" in body["details"]


@pytest.mark.sqlite
def test_retired_golden_id_redirects_to_survivor(crm, erp, ingest, key_client):
    ingest(crm, "customer", ACME)
    ingest(erp, "customer", {"source_id": "9", "name": "Totally Different GmbH", "country": "DE"})
    a = SourceRecord.objects.get(source_id="001A").golden
    b = SourceRecord.objects.get(source_id="9").golden
    golden_service.merge(a, [b], reason="test merge")
    client = key_client(crm, "read")
    response = client.get(f"/api/v1/golden/{b.pk}/")
    assert response.status_code == 301
    assert response.json()["survivor_id"] == str(a.pk)
    assert response["Location"].endswith(f"/api/v1/golden/{a.pk}/")
    followed = client.get(response["Location"])
    assert followed.status_code == 200
    assert {r["source_id"] for r in followed.json()["source_records"]} == {"001A", "9"}
    xref = client.get("/api/v1/xref/", {"system": "erp", "domain": "customer", "source_id": "9"})
    assert xref.json()["golden_id"] == str(a.pk)


def test_batch_ingest_answers_per_record(crm, key_client, on_commit):
    client = key_client(crm, "write")
    body = {"records": [ACME, {**ACME, "source_id": "001B", "updated_at": "yesterday"}]}
    with on_commit():
        response = client.post("/api/v1/systems/crm/customer/records/", body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["counts"]["created"] == 1 and data["counts"]["quarantined"] == 1
    assert data["results"][1]["outcome"] == "quarantined"
    assert "updated_at" in data["results"][1]["errors"]
    again = client.post("/api/v1/systems/crm/customer/records/", {"records": [ACME]}, format="json")
    assert again.json()["results"][0]["outcome"] == "unchanged"
    assert SourceRecord.objects.get(source_id="001A").golden is not None
    assert AuditEntry.objects.filter(action="ingest").count() == 2


def test_key_writes_only_as_its_own_system(crm, erp, key_client):
    response = key_client(crm, "read", "write").post(
        "/api/v1/systems/erp/customer/records/", {"records": [ACME]}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "wrong_system"
    assert not SourceRecord.objects.exists()


def test_read_key_cannot_write_and_no_key_cannot_read(crm, key_client):
    response = key_client(crm, "read").post(
        "/api/v1/systems/crm/customer/records/", {"records": [ACME]}, format="json"
    )
    assert response.status_code == 403
    anonymous = APIClient().get("/api/v1/golden/")
    assert anonymous.status_code in (401, 403)
    assert "code" in anonymous.json()
    bad_key = APIClient()
    bad_key.credentials(HTTP_AUTHORIZATION="Api-Key nope")
    assert bad_key.get("/api/v1/golden/").status_code == 401


def test_malformed_ingest_body_is_400(crm, key_client):
    response = key_client(crm, "write").post(
        "/api/v1/systems/crm/customer/records/", {"records": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    unknown = key_client(crm, "write").post(
        "/api/v1/systems/crm/galaxy/records/", {"records": [ACME]}, format="json"
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_domain"


def test_golden_list_filters_by_domain_and_name(crm, ingest, key_client):
    ingest(crm, "customer", ACME, {"source_id": "2", "name": "Zeta Holdings", "country": "GB"})
    ingest(crm, "product", {"source_id": "P1", "name": "Acme Support Gold", "code": "SUP-G"})
    response = key_client(crm, "read").get("/api/v1/golden/", {"domain": "customer", "name": "acme"})
    names = [g["name"] for g in response.json()["results"]]
    assert names == ["Acme Widgets Inc."]


def test_xref_export_csv(crm, ingest, key_client):
    ingest(crm, "customer", ACME, {"source_id": "2", "name": "Zeta Holdings", "country": "GB"})
    response = key_client(crm, "read").get("/api/v1/xref/customer/export/")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["source_id"] for r in rows} == {"001A", "2"}
    assert all(r["golden_id"] for r in rows)


def test_quarantine_listed_and_replayed_over_api(crm, ingest, key_client, on_commit):
    ingest(crm, "customer", {"source_id": "Q1", "name": "Q Corp", "updated_at": "soon"})
    client = key_client(crm, "read", "write")
    listed = client.get("/api/v1/quarantine/", {"system": "crm"}).json()["results"]
    assert len(listed) == 1 and "updated_at" in listed[0]["errors"]
    with on_commit():
        response = client.post(
            f"/api/v1/quarantine/{listed[0]['id']}/replay/",
            {"payload": {"source_id": "Q1", "name": "Q Corp", "updated_at": "2026-01-01"}},
            format="json",
        )
    assert response.json()["outcome"] == "created"
    again = client.post(f"/api/v1/quarantine/{listed[0]['id']}/replay/", {}, format="json")
    assert again.status_code == 409


def test_schema_and_docs_are_open():
    client = APIClient()
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/xref/" in paths and "/api/v1/systems/{system}/{domain}/records/" in paths
    scheme = schema.json()["components"]["securitySchemes"]["ApiKey"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "X-Api-Key"}
    assert {"ApiKey": []} in paths["/api/v1/xref/"]["get"]["security"]
    assert client.get("/api/docs/").status_code == 200


def test_the_schema_describes_every_endpoint_without_a_guess(tmp_path):
    """drf-spectacular warns where it must guess a request, a response or an authentication scheme."""
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "securitySchemes" in (tmp_path / "schema.yml").read_text()


def test_search_before_create_returns_explained_candidates(crm, erp, ingest, key_client):
    ingest(crm, "customer", ACME, {"source_id": "2", "name": "Zeta Holdings", "country": "GB"})
    record = SourceRecord.objects.get(source_id="001A")
    client = key_client(erp, "read")
    body = {
        "attributes": {
            "name": "ACME Widgets Incorporated",
            "website": "http://acme-widgets.com/about",
            "country": "USA",
        }
    }
    response = client.post("/api/v1/match/customer/search/", body, format="json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert results[0]["golden_id"] == str(record.golden_id)
    assert all(r["golden_id"] != str(SourceRecord.objects.get(source_id="2").golden_id) for r in results)
    fields = {c["field"]: c for c in results[0]["contributions"]}
    assert fields["domain"]["weight"] > 0 and "name" in fields
    assert abs(sum(c["weight"] for c in results[0]["contributions"]) - results[0]["weight"]) < 0.01
    bad = client.post("/api/v1/match/customer/search/", {"attributes": {"birth_date": "x"}}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_revoked_key_is_refused_at_once(crm):
    from mdm.apikeys import issue_key, revoke_key

    key, plain = issue_key(system=crm, name="soon revoked", scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    assert client.get("/api/v1/systems/").status_code == 200
    revoke_key(key)
    refused = client.get("/api/v1/systems/")
    assert refused.status_code == 401 and refused.json()["code"] == "authentication_failed"


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/golden/not-a-uuid/", None),
        ("get", "/api/v1/golden/not-a-uuid/hierarchy/", None),
        ("get", "/api/v1/golden/?updated_after=yesterday", None),
        ("get", "/api/v1/golden/?cursor=garbage", None),
        ("get", "/api/v1/entitlements/check/?customer=bad", None),
        ("get", "/api/v1/quarantine/abc/", None),
        ("post", "/api/v1/systems/crm/customer/records/", {"records": [["not", "a", "record"]]}),
        ("post", "/api/v1/systems/crm/customer/records/", {"records": [{"source_id": None}]}),
        ("post", "/api/v1/match/customer/search/", {"attributes": "text"}),
        ("post", "/api/v1/quarantine/999/replay/", {}),
    ],
)
def test_bad_input_never_answers_500(crm, key_client, method, url, body):
    client = key_client(crm, "read", "write")
    response = getattr(client, method)(url, body, format="json") if body is not None else client.get(url)
    assert response.status_code < 500
    assert response["Content-Type"].startswith("application/json")
    if response.status_code >= 400:
        assert {"code", "message"} <= response.json().keys()


@pytest.mark.sqlite
def test_xref_answer_carries_the_same_golden_record_as_the_golden_endpoint(crm, ingest, key_client):
    ingest(crm, "customer", ACME)
    client = key_client(crm, "read")
    xref = client.get("/api/v1/xref/", {"system": "crm", "domain": "customer", "source_id": "001A"}).json()
    golden = client.get(f"/api/v1/golden/{xref['golden_id']}/").json()
    golden.pop("source_records")
    assert xref["golden"] == golden
