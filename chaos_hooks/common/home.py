"""The harness's state directory: journal, stack profile, stack registrations, error log."""
import os


def state_dir() -> str:
    return os.environ.get("LOCUST_CHAOS_HOME") or os.path.join(os.getcwd(), ".locust-chaos")
