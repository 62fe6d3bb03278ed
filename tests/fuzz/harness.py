"""The parent side of the fuzzer: a worker process (tests/fuzz/worker.py) to run cases in, with a
per-case time limit, and the contract every case must keep:

- exit 0 with a plausible answer (for --format json: totals equal the sums of the rows, every
  output dimension in 1..2^20, no negative count, receptive-field sizes whole numbers, memory
  totals the sums of their lines), or
- exit 2 with exactly one line on stderr, starting with 'error:', nothing on stdout;
- never a traceback, a hang (CASE_SECONDS) or a blow-up (the worker's memory limit).
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASE_SECONDS = float(os.environ.get("ARCHCALC_FUZZ_CASE_SECONDS", 10))
MAX_DIM = 1 << 20
# A clean message is one line and short: values are quoted clipped, locations bounded.
MAX_MESSAGE = 1000


class Broken(AssertionError):
    """A case broke the contract."""


class Worker:
    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.exits: dict[str, int] = {}  # exit status (or 'broken') -> cases

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("worker.py"))], cwd=ROOT, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True, bufsize=1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def run(self, args: list[str], specs: list[str | bytes]) -> dict:
        """Run one case; a hang or a dead worker raises Broken (and the worker is replaced)."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        encoded = [base64.b64encode(s if isinstance(s, bytes) else s.encode("utf-8", "surrogatepass")).decode()
                   for s in specs]
        self.process.stdin.write(json.dumps({"args": args, "specs": encoded}) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], CASE_SECONDS)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.exits["broken"] = self.exits.get("broken", 0) + 1
            dead = self.process.poll() is not None
            self.stop()
            raise Broken(f"archcalc {' '.join(args)}: {'the worker died (memory?)' if dead else f'no answer in {CASE_SECONDS:.0f} s'}")
        reply = json.loads(line)
        self.exits[str(reply["exit"])] = self.exits.get(str(reply["exit"]), 0) + 1
        return reply




def check(reply: dict, args: list[str]) -> None:
    """The contract, for one reply to ``archcalc ARGS``; Click's own usage errors (a bad option
    value) too must be one 'error:' line."""
    where = f"archcalc {' '.join(args)}"
    if reply["traceback"]:
        raise Broken(f"{where}: uncaught exception\n{reply['traceback']}")
    if "Traceback" in reply["stdout"] + reply["stderr"]:
        raise Broken(f"{where}: a traceback was printed")
    if reply["exit"] == 2:
        lines = reply["stderr"].splitlines()
        if len(lines) != 1 or not lines[0].startswith("error: "):
            raise Broken(f"{where}: exit 2 needs exactly one 'error:' line, got {reply['stderr'][:500]!r}")
        if len(lines[0]) > MAX_MESSAGE:
            raise Broken(f"{where}: message of {len(lines[0]):,} characters: {lines[0][:300]}...")
        if "out of memory" in lines[0] or lines[0] == "error: the spec nests too deeply":
            raise Broken(f"{where}: a blow-up caught only at the top: {lines[0]}")
        if reply["stdout"]:
            raise Broken(f"{where}: output before the error: {reply['stdout'][:300]!r}")
        return
    if reply["exit"] != 0:
        raise Broken(f"{where}: exit status {reply['exit']}: {reply['stderr'][:500]!r}")
    if not reply["stdout"].strip():
        raise Broken(f"{where}: exit 0 but no output")
    if "json" in args:
        check_json(json.loads(reply["stdout"]), args, where)


def check_json(data: dict, args: list[str], where: str) -> None:
    if args[0] == "memory":
        for phase in ("training", "inference"):
            if data[f"{phase}_total"] != sum(line["bytes"] for line in data[phase]):
                raise Broken(f"{where}: {phase} total is not the sum of its lines")
            if any(line["bytes"] < 0 for line in data[phase]):
                raise Broken(f"{where}: negative bytes")
        return
    if args[0] not in ("params", "flops", "rf", "summary"):
        return
    layers, total = data["layers"], data["total"]
    for key in ("params", "buffers", "macs", "flops", "ops", "activations"):
        if total[key] != sum(layer[key] for layer in layers):
            raise Broken(f"{where}: total {key} {total[key]} is not the sum of the rows")
        if any(layer[key] < 0 for layer in layers):
            raise Broken(f"{where}: a negative {key}")
    for layer in layers + [{"name": "output", "output": data["output"]}]:
        if not all(1 <= d <= MAX_DIM for d in layer["output"]):
            raise Broken(f"{where}: layer {layer['name']} has output {layer['output']}")
        rf = layer.get("rf")
        if rf is not None and not all(isinstance(s, int) and s >= 0 for s in rf["size"]):
            raise Broken(f"{where}: layer {layer['name']} has receptive field {rf}")
