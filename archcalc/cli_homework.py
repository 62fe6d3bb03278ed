"""CLI commands for the homework area; registered on archcalc.cli.app (imported by archcalc.cli)."""

from .cli import app  # noqa: F401
