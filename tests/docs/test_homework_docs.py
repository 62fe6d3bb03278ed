"""The homework docs show real output: every ```console block in docs/tutorial.md and
docs/oneliners.md starts with `$ archcalc ...`, and what follows must be what that command prints.

Regenerate the outputs after a deliberate change with: python tests/docs/test_homework_docs.py
"""

import re
import shlex
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archcalc.cli import app

DOCS = Path(__file__).resolve().parents[2] / "docs"
FILES = ("tutorial.md", "oneliners.md", "memory.md")
BLOCK = re.compile(r"```console\n\$ (archcalc [^\n]*)\n(.*?)```", re.S)


def run(command: str) -> tuple[str, int]:
    result = CliRunner().invoke(app, shlex.split(command)[1:])
    text = result.output
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n", result.exit_code


def blocks(name: str):
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer((DOCS / name).read_text())]


def examples():
    return [pytest.param(command, shown, id=f"{name}:{command[:60]}") for name in FILES for command, shown in blocks(name)]


@pytest.mark.parametrize("command, shown", examples())
def test_documented_output_is_real(command, shown):
    actual, code = run(command)
    # 1 = a documented wrong answer; 2 = a documented mistake, shown as its one error line
    assert code in (0, 1) or (code == 2 and actual.startswith("error: ")), actual
    assert actual == shown, f"docs are stale; regenerate with: python tests/docs/test_homework_docs.py\n{actual}"


def test_docs_have_examples():
    assert len(blocks("tutorial.md")) >= 8 and len(blocks("oneliners.md")) >= 6


def regenerate() -> None:
    for name in FILES:
        path = DOCS / name
        text = path.read_text()

        def fill(match):
            output, _ = run(match.group(1))
            return f"```console\n$ {match.group(1)}\n{output}```"

        path.write_text(BLOCK.sub(fill, text))
        print(f"regenerated {path}", file=sys.stderr)


if __name__ == "__main__":
    regenerate()
