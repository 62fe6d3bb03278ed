"""benchmarks/bench.py still runs (archcalc's side only: the peers are not test dependencies).
A smoke test of the script, not a timing: the figures it prints must be archcalc's own."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_script_measures_archcalc(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--nets", "lenet5", "--sizes", "32", "64", "--repeat", "1",
         "--peers", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())
    assert [(r["net"], r["size"]) for r in rows] == [("lenet5", 32), ("lenet5", 64)]
    assert rows[0]["archcalc"]["params"] == 61_706 and rows[0]["archcalc"]["peak_bytes"] > 0
    assert "| lenet5 | 32x32 | archcalc |" in done.stdout
