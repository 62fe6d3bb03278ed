"""The fuzzer's worker process: runs archcalc's CLI in-process (typer's CliRunner) on one case
at a time, under an address-space limit, and answers on its own stdout.

Protocol: one JSON object per line in, one per line out.
  in:  {"args": ["params", "{spec}", "--format", "json"], "specs": [base64 text, ...]}
       ("{spec}", "{spec1}", ... in args stand for the files the specs are written to)
  out: {"exit": int, "stdout": str, "stderr": str, "traceback": str | null, "seconds": float}

A case that exhausts memory makes archcalc print "out of memory" (or kills the worker); a case
that hangs is killed by the parent. Either way the parent sees it and starts a fresh worker.
"""

from __future__ import annotations

import base64
import json
import os
import resource
import sys
import tempfile
import time
import traceback

MEMORY_LIMIT = int(os.environ.get("ARCHCALC_FUZZ_MEMORY", 2 << 30))  # bytes of address space


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    from typer.testing import CliRunner

    from archcalc.cli import app

    runner = CliRunner()
    replies = sys.stdout  # CliRunner swaps sys.stdout only while a command runs
    folder = tempfile.mkdtemp(prefix="archcalc-fuzz-")
    for line in sys.stdin:
        case = json.loads(line)
        paths = {}
        for index, encoded in enumerate(case["specs"]):
            path = os.path.join(folder, f"spec{index}.yaml")
            with open(path, "wb") as handle:
                handle.write(base64.b64decode(encoded))
            paths["{spec}" if index == 0 else f"{{spec{index}}}"] = path
        args = [paths.get(a, a) for a in case["args"]]
        start = time.perf_counter()
        result = runner.invoke(app, args)
        seconds = time.perf_counter() - start
        failure = None
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            failure = "".join(traceback.format_exception(*result.exc_info))[-4000:]
        reply = {"exit": result.exit_code, "stdout": result.stdout, "stderr": result.stderr,
                 "traceback": failure, "seconds": seconds}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
