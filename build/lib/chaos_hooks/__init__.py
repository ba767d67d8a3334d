"""locust-chaos: a load-and-chaos harness on Locust."""

__version__ = "0.1.0"
