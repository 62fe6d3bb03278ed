"""Every archcalc command on a 10,000-layer spec: each must stay near-linear in the layer count
(target: under a second per command on a quiet machine).

    python benchmarks/big_chain.py [--layers 10000] [--repeat 3] [--only params plot ...] [--json results.json]

The spec is tests/big_specs.py's chain of residual units, in two forms: written out (one YAML
entry per layer, so parsing 500 kB of YAML is part of every command) and compact (one block
repeated, as a deep net would be written). Each measurement is a fresh process, as a user pays
it (interpreter start and imports included), output piped; the commands take turns (interleaved)
and the median of the repeats is shown. A command that fails is shown as "fails" (graph: dagre's
layout runs out of V8's stack on thousands of layers).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from big_specs import chain_spec  # noqa: E402  (a test helper, shared with the scaling tests)

# (label, arguments); SPEC stands for the spec file, OUT for a file in a scratch folder
COMMANDS = [
    ("params", ["params", "SPEC"]),
    ("params --format json", ["params", "SPEC", "--format", "json"]),
    ("flops", ["flops", "SPEC"]),
    ("rf", ["rf", "SPEC"]),
    ("summary", ["summary", "SPEC"]),
    ("summary --format csv", ["summary", "SPEC", "--format", "csv"]),
    ("summary --depth 1", ["summary", "SPEC", "--depth", "1"]),
    ("memory", ["memory", "SPEC"]),
    ("compare (the spec twice)", ["compare", "SPEC", "SPEC"]),
    ("report (HTML)", ["report", "SPEC", "-o", "OUT.html"]),
    ("plot (PNG)", ["plot", "SPEC", "-o", "OUT.png"]),
    ("graph (SVG)", ["graph", "SPEC", "-o", "OUT.svg"]),
    ("export (imports torch)", ["export", "SPEC"]),
    ("zoo (bundled nets; no spec)", ["zoo"]),
]
# What a fresh process pays before archcalc does anything, for reading the rows above: the
# interpreter, and the libraries plot and export load.
BASELINES = [
    ("python -c pass", ["-c", "pass"]),
    ("import matplotlib's Figure and Agg canvas", ["-c", "from matplotlib.figure import Figure; "
                                                   "from matplotlib.backends.backend_agg import FigureCanvasAgg"]),
    ("import torch", ["-c", "import torch"]),
]
FAILED = float("nan")


def run_once(arguments: list[str], module: bool = True) -> float:
    """Seconds for one fresh process; NaN when the command fails (its first error line is printed)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # compiled bytecode, as an installed tool has
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *(["-m", "archcalc"] if module else []), *arguments], cwd=ROOT, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [""]
        print(f"  archcalc {' '.join(arguments[:2])} failed: {lines[-1][:160]}", file=sys.stderr)
        return FAILED
    return elapsed


def measure(commands: list[tuple[str, list[str], bool]], repeat: int) -> dict[str, float]:
    """Median seconds per label; the commands take turns, so a busy moment touches each alike."""
    for _, arguments, module in commands:
        run_once(arguments, module)  # warm-up: bytecode caches, file cache
    times: dict[str, list[float]] = {label: [] for label, _, _ in commands}
    for _ in range(repeat):
        for label, arguments, module in commands:
            times[label].append(run_once(arguments, module))
    return {label: (FAILED if any(t != t for t in values) else statistics.median(values)) for label, values in times.items()}


def concrete(arguments: list[str], spec: Path, scratch: Path) -> list[str]:
    return [str(spec) if a == "SPEC" else str(scratch / a.replace("OUT", spec.stem)) if a.startswith("OUT") else a
            for a in arguments]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="measure only the commands whose label starts with one of these")
    parser.add_argument("--json", type=Path, help="also write the timings here")
    options = parser.parse_args()
    chosen = [(label, a) for label, a in COMMANDS if not options.only or label.startswith(tuple(options.only))]
    table: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        specs = {}
        for form, written_out in (("written out", True), ("compact", False)):
            spec = specs[form] = scratch / f"chain_{'written' if written_out else 'compact'}.yaml"
            spec.write_text(chain_spec(options.layers, written_out=written_out))
        runs = [(f"{form}|{label}", concrete(a, spec, scratch), True) for label, a in chosen for form, spec in specs.items()]
        runs += [(f"baseline|{label}", a, False) for label, a in BASELINES]
        medians = measure(runs, options.repeat)
    for key, seconds in medians.items():
        form, label = key.split("|", 1)
        table.setdefault(form, {})[label] = seconds
    print(f"archcalc on a {options.layers:,}-layer chain (seconds, median of {options.repeat}, fresh process each, "
          "the commands in turns)\n")
    print("| command | written out | compact |")
    print("|---|---:|---:|")
    for label, _ in chosen:
        print(f"| {label} | {_cell(table['written out'][label])} | {_cell(table['compact'][label])} |")
    print("\n| baseline (no archcalc) | seconds |\n|---|---:|")
    for label, _ in BASELINES:
        print(f"| {label} | {_cell(table['baseline'][label])} |")
    if options.json:
        clean = {form: {k: (None if v != v else v) for k, v in row.items()} for form, row in table.items()}
        options.json.write_text(json.dumps({"layers": options.layers, "seconds": clean}, indent=2) + "\n")


def _cell(seconds: float) -> str:
    return "fails" if seconds != seconds else f"{seconds:.2f}"


if __name__ == "__main__":
    main()
