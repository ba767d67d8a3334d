"""Errors that end a run with a one-line message and a defined exit code."""


class ChaosError(Exception):
    """Base: carries the process exit code the CLI and plugin use."""
    exit_code = 3


class ScenarioError(ChaosError):
    """Bad scenario, argument or target profile: exit 2."""
    exit_code = 2


class TargetUnreachable(ChaosError):
    """The system under test or one of its controls cannot be reached: exit 3."""
    exit_code = 3
