"""Snapshot every figure the tool prints, to prove a refactor changes none of them.

    python tools/snapshot.py OUT_DIR            # before the change (e.g. on a checkout of main)
    python tools/snapshot.py OUT_DIR2           # after it
    diff -r OUT_DIR OUT_DIR2                    # must be empty

For every bundled net and every bundled comparison it writes the `--format json` output of
params, flops, rf, summary (also folded with --depth 1) and memory, the summary as CSV and
Markdown, the piped params table and the exported PyTorch source; plus zoo, a compare, a chain
and a one-liner. Commands run in one process through the CLI (typer's runner), as a user calls
them; the export is skipped where torch is not installed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from typer.testing import CliRunner

from archcalc.cli import app

try:
    from archcalc.spec.bundled import bundled, comparisons
except ImportError:  # a checkout from before the package layout (archcalc/zoo.py)
    from archcalc.zoo import bundled, comparisons

PER_SPEC = {
    "params.json": ["params", "--format", "json"],
    "flops.json": ["flops", "--format", "json"],
    "rf.json": ["rf", "--format", "json"],
    "summary.json": ["summary", "--format", "json"],
    "summary.csv": ["summary", "--format", "csv"],
    "summary.md": ["summary", "--format", "markdown"],
    "params.txt": ["params"],
    "memory.json": ["memory", "--format", "json"],
    "d1.json": ["summary", "--depth", "1", "--format", "json"],
    "export.py": ["export"],
}
ONCE = {
    "zoo.json": ["zoo", "--format", "json"],
    "zoo.md": ["zoo", "--format", "markdown"],
    "compare.json": ["compare", "bottleneck", "plain_3x3", "--format", "json"],
    "layers.md": ["layers", "--format", "markdown"],
    "chain.json": ["chain", "32x32x3", "conv 5x5 4", "pool 2", "conv 3x3 16 pad=1", "fc:10", "--format", "json"],
    "conv.txt": ["conv", "40x50x128", "--out", "64", "--kernel", "3", "--padding", "1", "--check", "73728"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="directory to write the outputs to")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    import importlib.util

    with_torch = importlib.util.find_spec("torch") is not None
    runner = CliRunner()
    specs = {**bundled(), **{f"compare_{name}": path for name, path in comparisons().items()}}
    # a family's variant (spec.bundled.NetPath) is named FILE:VARIANT; a plain file by its path
    jobs = [(f"{name}.{suffix}", [*args[:1], getattr(path, "reference", str(path)), *args[1:]]) for name, path in specs.items()
            for suffix, args in PER_SPEC.items() if with_torch or suffix != "export.py"]
    jobs += list(ONCE.items())
    for index, (file, args) in enumerate(jobs, 1):
        result = runner.invoke(app, args)
        (out / file).write_text(f"exit {result.exit_code}\n{result.stdout}")
        print(f"\r{index}/{len(jobs)} {file:<40}", end="", flush=True)
    print(f"\nwrote {len(jobs)} files to {out}")


if __name__ == "__main__":
    main()
