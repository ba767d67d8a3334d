"""Verdict output: terminal table and the report directory."""
from chaos_hooks.report.files import write_report
from chaos_hooks.report.terminal import render_table

__all__ = ["write_report", "render_table"]
