"""archcalc against torchinfo, fvcore and ptflops on the same nets.

    python benchmarks/bench.py [--repeat 3] [--sizes 224 2048] [--nets vgg16 resnet50 resnet152]
                               [--peer-nets-large NET ...] [--json results.json]

Every measurement is a fresh process, so process start and imports count, as a user pays them:
- archcalc: the whole `archcalc params SPEC --input 3xHxW` command, with its default (rich)
  table output and again with `--format csv`;
- each peer: `benchmarks/peer.py`, which imports torch, builds the module from the same spec with
  archcalc.pytorch.twin.build_module and runs the tool once on a batch-1 input.
Wall time is measured around the process; peak memory is the process's own maximum resident set
size (os.wait4's rusage). Each measurement is repeated and the median taken; at 224x224 archcalc
and the peers take turns (interleaved), so a busy moment on a shared machine touches each alike.

At large inputs the peers run a real forward pass (VGG-16 at 2048x2048 takes ~25 s and ~4 GB on
two CPU cores), so there they run once, without a warm-up; the whole default run takes about ten
minutes. `--peer-nets-large resnet50` limits the peers' large runs to one net.
Results and the machine they were measured on: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ("torchinfo", "fvcore", "ptflops")
sys.path.insert(0, str(ROOT))  # archcalc from this checkout, installed or not


# Children run as an installed tool does: with compiled bytecode. Where PYTHONDONTWRITEBYTECODE is
# set (as on the project's machines), every import of a source tree would be compiled afresh on
# each run; an untimed warm-up run with it unset writes the caches first, for every tool alike.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def archcalc_command() -> list[str]:
    """The console script a user types, next to this interpreter (else ``python -m archcalc``)."""
    script = Path(sys.executable).with_name("archcalc")
    return [str(script)] if script.exists() else [sys.executable, "-m", "archcalc"]


def measure_rusage(command: list[str]) -> tuple[float, int, str, float]:
    """(wall seconds, the child's own peak RSS in bytes from os.wait4, its stdout, its user +
    system CPU seconds: less sensitive than wall time to other work on a shared machine)."""
    read, write = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: stdout to the pipe, stderr to /dev/null
        os.chdir(ROOT)
        os.dup2(write, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(read)
        os.execve(command[0], command, CHILD_ENV)
    os.close(write)
    chunks = []
    while True:
        chunk = os.read(read, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed with status {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_maxrss * 1024, b"".join(chunks).decode(), usage.ru_utime + usage.ru_stime


def repeated(command: list[str], repeat: int, warm_up: bool = True) -> dict:
    return interleaved([command], repeat, warm_up)[0]


def interleaved(commands: list[list[str]], repeat: int, warm_up: bool = True) -> list[dict]:
    """Each command ``repeat`` times, taking turns (a busy moment on a shared machine touches
    every tool alike), after one untimed warm-up run each; medians of wall time and peak RSS."""
    if warm_up:
        for command in commands:
            measure_rusage(command)
    runs: list[list] = [[] for _ in commands]
    for _ in range(repeat):
        for command, own in zip(commands, runs):
            own.append(measure_rusage(command))
    return [{
        "wall_s": statistics.median(r[0] for r in own),
        "peak_bytes": int(statistics.median(r[1] for r in own)),
        "walls_s": [r[0] for r in own],
        "cpu_s": statistics.median(r[3] for r in own),
        "stdout": own[-1][2],
        "runs": len(own),
    } for own in runs]


def input_arg(spec: str, size: int) -> str:
    """The --input for a square size, with the spec's own channel count (LeNet-5 reads 1)."""
    from archcalc import load

    return f"{load(spec).input_shape[0]}x{size}x{size}"


def archcalc_numbers(spec: str, size: int) -> dict:
    """archcalc's own totals (a separate, untimed JSON run)."""
    out = subprocess.run(
        [sys.executable, "-m", "archcalc", "params", spec, "--input", input_arg(spec, size), "-f", "json"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    total = json.loads(out)["total"]
    return {"params": total["params"], "macs": total["macs"]}


def bench(nets: list[str], sizes: list[int], peer_large: list[str], repeat: int, peer_repeat_large: int,
          peers: tuple[str, ...] = PEERS) -> list[dict]:
    rows = []
    for size in sizes:
        for net in nets:
            command = archcalc_command() + ["params", net, "--input", input_arg(net, size)]
            peer_commands = {peer: [sys.executable, str(ROOT / "benchmarks" / "peer.py"), peer, net, str(size), str(size)]
                             for peer in peers if size <= 224 or net in peer_large}
            if size <= 224:  # archcalc and every peer in turns, so the load they meet is alike
                results = interleaved([command, command + ["--format", "csv"], *peer_commands.values()], repeat)
                own, plain, peer_results = results[0], results[1], dict(zip(peer_commands, results[2:]))
            else:  # a peer's run is a full CPU forward pass here: once each, no warm-up
                own, plain = interleaved([command, command + ["--format", "csv"]], repeat)
                peer_results = {peer: repeated(c, peer_repeat_large, warm_up=False) for peer, c in peer_commands.items()}
            own.update(archcalc_numbers(net, size))
            plain.pop("stdout")
            row = {"net": net, "size": size, "archcalc": own, "archcalc_csv": plain, "peers": {}}
            for peer, result in peer_results.items():
                result.update(json.loads(result.pop("stdout").strip().splitlines()[-1]))
                row["peers"][peer] = result
            own.pop("stdout")
            rows.append(row)
            print(f"  measured {net} at {size}x{size}", file=sys.stderr, flush=True)
    return rows


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def table(rows: list[dict]) -> str:
    lines = [
        "| net | input | tool | wall (median) | CPU (median) | peak RSS | archcalc faster (wall; CPU) "
        "| archcalc memory share | params | MACs |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        own = row["archcalc"]
        lines.append(
            f"| {row['net']} | {row['size']}x{row['size']} | archcalc | {own['wall_s']:.2f} s | {own['cpu_s']:.2f} s "
            f"| {mib(own['peak_bytes'])} | | | {own['params']:,} | {own['macs']:,} |"
        )
        for peer, r in row["peers"].items():
            lines.append(
                f"| | | {peer} | {r['wall_s']:.2f} s | {r['cpu_s']:.2f} s | {mib(r['peak_bytes'])} "
                f"| {r['wall_s'] / own['wall_s']:.1f}x; {r['cpu_s'] / own['cpu_s']:.1f}x "
                f"| 1/{r['peak_bytes'] / own['peak_bytes']:.1f} | {r['params']:,} | {r['macs']:,} |"
            )
        plain = row["archcalc_csv"]
        lines.append(f"| | | archcalc `-f csv` | {plain['wall_s']:.2f} s | {plain['cpu_s']:.2f} s "
                     f"| {mib(plain['peak_bytes'])} | | | | |")
        if row["peers"]:
            fastest = min(row["peers"].values(), key=lambda r: r["wall_s"])
            leanest = min(row["peers"].values(), key=lambda r: r["peak_bytes"])
            for label, mine in (("table", own), ("`-f csv`", plain)):
                lines.append(
                    f"| | | **archcalc ({label}) vs fastest / leanest peer** | | | "
                    f"| **{fastest['wall_s'] / mine['wall_s']:.1f}x; {fastest['cpu_s'] / mine['cpu_s']:.1f}x** "
                    f"| **1/{leanest['peak_bytes'] / mine['peak_bytes']:.1f}** | | |"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", nargs="+", default=["vgg16", "resnet50", "resnet152"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[224, 2048])
    parser.add_argument("--peer-nets-large", nargs="*", default=None,
                        help="nets the peers run at sizes above 224 (default: all of --nets; each is a full CPU forward pass)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-repeat-large", type=int, default=1, help="peer repeats at sizes above 224 (each is a full CPU forward)")
    parser.add_argument("--peers", nargs="*", default=list(PEERS), choices=PEERS, help="peer tools to run (default: all)")
    parser.add_argument("--json", type=Path, help="also write the raw measurements here")
    args = parser.parse_args()
    peer_large = args.nets if args.peer_nets_large is None else args.peer_nets_large
    rows = bench(args.nets, args.sizes, peer_large, args.repeat, args.peer_repeat_large, tuple(args.peers))
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
