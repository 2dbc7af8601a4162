"""Webhooks: endpoints a user registers, and the signed events Dashtam posts to them."""
