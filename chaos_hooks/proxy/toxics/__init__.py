"""Toxics: one module per kind, each registering itself (see registry.py); model.py parses the API's JSON."""
from . import bandwidth, latency, limit_data, reset_peer, slicer, slow_close, timeout  # noqa: F401 (they register)
from .model import DOWNSTREAM, UPSTREAM, Toxic, toxic_from_json, toxic_updated
from .registry import KINDS

TOXIC_TYPES = {name: kind.attributes for name, kind in KINDS.items()}

__all__ = ["DOWNSTREAM", "UPSTREAM", "KINDS", "TOXIC_TYPES", "Toxic", "toxic_from_json", "toxic_updated"]
