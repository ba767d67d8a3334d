"""The embedded stack: a reference system and its datastores as child processes (see embedded.py)."""
