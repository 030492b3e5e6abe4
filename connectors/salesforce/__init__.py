"""Salesforce: accounts and products over the REST API; the CRM's view of the customer."""
