"""Command line: thin typer commands over spec -> graph -> analysis -> figures -> render. ``app``
lives in archcalc.cli.app; each command module registers its commands on it when imported here."""

import sys

from . import analysis, figures, homework, pytorch, zoo  # noqa: F401  (registers the commands)
from .app import app


def tolerant_streams() -> None:
    """A console that cannot encode a character (cp1252: a box rule, a name in Chinese) shows it
    as an escape (\\u2503) instead of ending the command in UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a detached or closed stream: leave it as it is
                pass


def main() -> None:
    tolerant_streams()
    app()


__all__ = ["app", "main"]
