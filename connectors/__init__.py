"""Connections to SaaS systems: clients, field mappings, sync runs, webhooks, outbound delivery."""
