"""Adapters for live sources (providers that Dashtam reads by itself)."""
