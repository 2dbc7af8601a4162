"""Webhook delivery: fan-out from the outbox, signing, the SSRF guard and the HTTP sender."""
