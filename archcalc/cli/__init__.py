"""Command line: thin typer commands over spec -> graph -> analysis -> figures -> render. ``app``
lives in archcalc.cli.app; each command module registers its commands on it when imported here."""

import gc
import sys

from . import analysis, figures, homework, pytorch, zoo  # noqa: F401  (registers the commands)
from . import report  # noqa: F401  (archcalc report, archcalc graph)
from . import plots  # noqa: F401  (registers plot)
from . import importing  # noqa: F401,E402  (archcalc import)
from .app import app, command_app


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


# One command is one short-lived pass that builds a large graph of objects and frees little:
# with the default thresholds the cyclic collector re-scans that whole heap again and again, a
# quarter of the time of a 10,000-layer spec (0.76 s instead of 1.0 s without it). Young
# collections still run, every 100,000 allocations, so cyclic garbage stays bounded.
COLLECTOR_THRESHOLDS = (100_000, 50, 1_000)


def main() -> None:
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    tolerant_streams()
    sys.exit(run(sys.argv[1:]))


def run(args: list[str]) -> int:
    """Run the command line; a mistake Click catches itself (an unknown option, --format xml,
    --batch 0) is one 'error:' line naming the command's help, exit 2, like every other mistake.
    (Click's exceptions are matched by their interface: typer vendors Click under names that
    differ between the typer versions archcalc supports.)"""
    import typer

    try:
        result = command_app(args)(args=args, prog_name="archcalc", standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("error: aborted\n")
        return 1
    except Exception as exc:
        if not (hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int)):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `archcalc`: the help, as before
            exc.show()
            return exc.exit_code
        from ..render.escape import visible

        command = exc.ctx.command_path if getattr(exc, "ctx", None) is not None else "archcalc"
        message = " ".join(exc.format_message().split())
        sys.stderr.write(f"error: {visible(message)} (see '{command} --help')\n")
        return exc.exit_code
    return result if isinstance(result, int) else 0
