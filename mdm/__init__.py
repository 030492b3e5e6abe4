"""The core of the hub: source systems, source records and the cross-reference, golden records,
survivorship, lineage, reference data, outbox events, ingest and the REST API."""
