"""Command line: thin typer commands over spec -> graph -> analysis -> figures -> render. ``app``
lives in archcalc.cli.app; each command module registers its commands on it when imported here."""

from . import analysis, figures, homework, pytorch, zoo  # noqa: F401  (registers the commands)
from .app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
