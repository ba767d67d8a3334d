"""Invariants by name. Register your own: INVARIANTS["name"] = Invariant("name", check, {bound: type})."""
from .base import Invariant, Result
from .catch_up import catch_up
from .sets import no_data_loss, no_duplicates
from .stock import no_oversell

INVARIANTS = {
    "no_data_loss": Invariant("no_data_loss", no_data_loss),
    "no_oversell": Invariant("no_oversell", no_oversell),
    "no_duplicates": Invariant("no_duplicates", no_duplicates),
    "catch_up": Invariant("catch_up", catch_up, {"max": "duration"}),
}

__all__ = ["INVARIANTS", "Invariant", "Result"]
