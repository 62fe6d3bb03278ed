"""Mistakes Click catches itself (a bad option value, an unknown option or command, a missing
argument) read like every other mistake: one 'error:' line naming the help, exit status 2."""

import subprocess
import sys

import pytest

from archcalc.cli import run


@pytest.mark.parametrize("args, words", [
    (["params", "lenet5", "--format", "xml"], "'xml' is not one of"),
    (["params", "lenet5", "--batch", "0"], "--batch"),
    (["params", "lenet5", "--bogus"], "No such option: --bogus"),
    (["params"], "Missing argument"),
    (["nosuch"], "No such command 'nosuch'"),
    (["flops", "lenet5", "--pass", "sideways"], "'sideways' is not one of"),
])
def test_click_usage_errors_are_one_line(capsys, args, words):
    assert run(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], captured.err
    assert "--help')" in lines[0]


def test_success_help_and_version_keep_their_exit_status(capsys):
    assert run(["--version"]) == 0 and capsys.readouterr().out.startswith("archcalc ")
    assert run(["params", "lenet5", "--help"]) == 0 and "Usage" in capsys.readouterr().out
    assert run(["params", "lenet5", "-f", "json"]) == 0
    assert run(["conv", "40x50x128", "--out", "64", "--kernel", "3", "--padding", "1", "--check", "1"]) == 1  # a wrong answer


def test_the_console_script_path_prints_one_line():
    result = subprocess.run([sys.executable, "-m", "archcalc", "summary", "lenet5", "--depth", "zero"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")


def test_a_command_run_alone_reads_as_in_the_whole_app(capsys):
    """run() hands typer an app holding only the command named first (cli.app.command_app): its
    help, its mistakes and its output are the same as the whole app's, for every command."""
    from archcalc.cli import app
    from archcalc.cli.app import command_app

    names = [info.name or info.callback.__name__.lower().replace("_", "-") for info in app.registered_commands]
    assert len(names) == len(set(names)) > 20
    for name in names:
        alone = command_app([name, "--help"])
        assert len(alone.registered_commands) == 1 and alone is not app
        outputs = []
        for whole in (True, False):
            status = (app if whole else alone)(args=[name, "--help"], prog_name="archcalc", standalone_mode=False)
            outputs.append((status, capsys.readouterr().out))
        assert outputs[0] == outputs[1], name
    assert command_app(["--help"]) is app and command_app(["nosuch"]) is app and command_app([]) is app
    for args in (["params"], ["params", "lenet5", "--bogus"]):
        assert run(args) == 2
        alone_err = capsys.readouterr().err
        assert alone_err.startswith("error: ") and "(see 'archcalc params --help')" in alone_err
