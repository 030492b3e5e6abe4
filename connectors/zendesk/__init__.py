"""Zendesk Support: organizations and users; the support desk's view of the customer and its SLA."""
