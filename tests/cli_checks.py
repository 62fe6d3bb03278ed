"""Running the CLI in-process on a spec text, and the contract for a user's mistake: exit
status 2, exactly one line on stderr starting with 'error:', no traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from archcalc.cli import app

runner = CliRunner()


def run_spec(tmp_path: Path, text: str | bytes, *command: str, name: str = "net.yaml"):
    """Write ``text`` to a file and run ``archcalc COMMAND FILE`` (params by default)."""
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    args = list(command or ("params",))
    return runner.invoke(app, [args[0], str(path), *args[1:]])


def assert_clean_error(result, *fragments: str) -> str:
    """The one-line error message, after checking the contract and that it holds ``fragments``."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert message.startswith("error: ") and len(message.splitlines()) == 1, message
    assert result.stdout == "", result.stdout
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message
