"""`archcalc params torchvision:NET` against a bare import of torch and torchvision and against
torchinfo.summary on the same module, side by side in one run, each in a fresh process as a user
runs it (median wall time of --repeat runs after one untimed warm-up that writes the bytecode
caches). The issue's bar: archcalc at most 1.5x the bare import, and faster than torchinfo.

    python benchmarks/import_speed.py                 # resnet152, 5 runs each
    python benchmarks/import_speed.py --net resnet50 --repeat 3 --json out.json

The bare import is `import torch` plus torchvision's models through
archcalc.pytorch.torchvision_models (plain `import torchvision` fails on this CPU build of torch:
its compiled ops do not register; the tolerant import does the same work and nothing more)."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TV = "from archcalc.pytorch.torchvision_models import torchvision_models; models = torchvision_models()"


def commands(net: str) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "import torch, torchvision": [python, "-c", f"import torch; {TV}"],
        f"archcalc params torchvision:{net}": [python, "-m", "archcalc", "params", f"torchvision:{net}"],
        "torchinfo.summary": [python, "-c", f"import torch, torchinfo; {TV}; "
                              f"model = models.get_model('{net}', weights=None).eval(); "
                              "torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0)"],
    }


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env={"PYTHONPATH": str(ROOT),
                                                                                   "PATH": "/usr/bin:/bin"})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", default="resnet152")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", help="write the timings to this file")
    options = parser.parse_args()
    runs = commands(options.net)
    for command in runs.values():
        timed(command)  # warm-up: bytecode caches, the file cache
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(options.repeat):  # interleaved, so a busy moment touches every tool alike
        for name, command in runs.items():
            times[name].append(timed(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    base, ours, peer = (medians[name] for name in runs)
    print(f"| command | median wall ({options.repeat} runs) | vs bare import |")
    print("|---|---:|---:|")
    for name, value in medians.items():
        print(f"| `{name}` | {value:.2f} s | {value / base:.2f}x |")
    print(f"\narchcalc / bare import: {ours / base:.2f}x (bar: 1.5x); torchinfo / archcalc: {peer / ours:.2f}x")
    if options.json:
        Path(options.json).write_text(json.dumps({"net": options.net, "times": times, "medians": medians}, indent=1))


if __name__ == "__main__":
    main()
