"""Dashtam: self-hostable financial-data aggregation backend."""

__version__ = "0.1.0"
