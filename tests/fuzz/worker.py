"""The fuzzer's worker process: runs archcalc's command line in-process (archcalc.cli.run, the
console script's own entry, with stdout and stderr captured) on one case at a time, under an
address-space limit, and answers on its own stdout.

Protocol: one JSON object per line in, one per line out.
  in:  {"args": ["params", "{spec}", "--format", "json"], "specs": [base64 text, ...]}
       ("{spec}", "{spec1}", ... in args stand for the files the specs are written to)
  out: {"exit": int, "stdout": str, "stderr": str, "traceback": str | null, "seconds": float}

A case that exhausts memory makes archcalc print "out of memory" (or kills the worker); a case
that hangs is killed by the parent. Either way the parent sees it and starts a fresh worker.
"""

from __future__ import annotations

import base64
import contextlib
import io
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
    replies = sys.stdout  # the command's output is captured apart (invoke)
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
        # "{spec}:VARIANT" names a variant of the first spec's file
        args = [paths["{spec}"] + a[6:] if a.startswith("{spec}:") and "{spec}" in paths else a for a in args]
        start = time.perf_counter()
        code, out, err, failure = invoke(args)
        reply = {"exit": code, "stdout": out, "stderr": err, "traceback": failure,
                 "seconds": time.perf_counter() - start}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def invoke(args: list[str]) -> tuple[int, str, str, str | None]:
    """(exit status, stdout, stderr, traceback of an uncaught exception or None), as a user of
    the console script gets them."""
    from archcalc.cli import run

    out, err, failure = io.StringIO(), io.StringIO(), None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = run(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:
            code, failure = 1, traceback.format_exc()[-4000:]
    return code, out.getvalue(), err.getvalue(), failure


if __name__ == "__main__":
    main()
