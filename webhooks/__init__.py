"""Webhook delivery's tools, below activities/ and api/: where an endpoint may point
(the SSRF guard) and how a delivery is signed (Standard Webhooks)."""
