"""Verdict output: terminal table and the report directory."""
from .files import write_report
from .terminal import render_table

__all__ = ["write_report", "render_table"]
