"""Structured logging adapter."""

from dashtam.infrastructure.logging.setup import configure_logging, get_logger

__all__ = ["configure_logging", "get_logger"]
