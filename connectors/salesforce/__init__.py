"""Salesforce: accounts, contacts, products, contracts and entitlements over the REST API; the CRM's view
of the customer."""
