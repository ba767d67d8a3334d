"""Embedded server speaking Toxiproxy 2.x's HTTP API, so network faults need no external binary."""
from .server import ProxyServer

__all__ = ["ProxyServer"]
