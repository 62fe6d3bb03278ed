"""Every archcalc command on a 10,000-layer spec: each must stay near-linear in the layer count
(target: under a second per command on a quiet machine).

    python benchmarks/big_chain.py [--layers 10000] [--repeat 3] [--json results.json]

The spec is tests/big_specs.py's chain of residual units, in two forms: written out (one YAML
entry per layer, so parsing 500 kB of YAML is part of every command) and compact (one block
repeated, as a deep net would be written). Each measurement is a fresh process, as a user pays
it (interpreter start and imports included), output piped; the median of the repeats is shown.
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

# (label, arguments); SPEC stands for the spec file
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
    ("export", ["export", "SPEC"]),
    ("zoo (bundled nets; no spec)", ["zoo"]),
]


def run_once(arguments: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "archcalc", *arguments], cwd=ROOT, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"archcalc {' '.join(arguments)} failed: {done.stderr.strip()}")
    return elapsed


def measure(spec: Path, repeat: int) -> dict[str, float]:
    results = {}
    for label, arguments in COMMANDS:
        concrete = [str(spec) if a == "SPEC" else a for a in arguments]
        run_once(concrete)  # warm-up: bytecode caches, file cache
        results[label] = statistics.median(run_once(concrete) for _ in range(repeat))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the timings here")
    options = parser.parse_args()
    table: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for form, written_out in (("written out", True), ("compact", False)):
            spec = Path(folder) / f"chain_{'written' if written_out else 'compact'}.yaml"
            spec.write_text(chain_spec(options.layers, written_out=written_out))
            table[form] = measure(spec, options.repeat)
    print(f"archcalc on a {options.layers:,}-layer chain (seconds, median of {options.repeat}, fresh process each)\n")
    print("| command | written out | compact |")
    print("|---|---:|---:|")
    for label, _ in COMMANDS:
        print(f"| {label} | {table['written out'][label]:.2f} | {table['compact'][label]:.2f} |")
    if options.json:
        options.json.write_text(json.dumps({"layers": options.layers, "seconds": table}, indent=2) + "\n")


if __name__ == "__main__":
    main()
