"""Stripe: customers, products (with their prices) and subscriptions; billing's view of the customer."""
