"""Fuzzing the CLI: every generated spec, run through params/flops/rf/summary/memory in a worker
process (time limit per case, memory limit per worker), must give a plausible answer with exit 0
or exactly one 'error:' line with exit 2; never a traceback, a hang or a blow-up (harness.py).

CI runs a small, derandomized budget (ARCHCALC_FUZZ_EXAMPLES, default 600 cases over all the
tests below, a minute or two). A long run, tens of thousands of cases:

    ARCHCALC_FUZZ_EXAMPLES=20000 python -m pytest tests/fuzz -p no:cacheprovider

ARCHCALC_FUZZ_SEED=N explores other cases than the derandomized default; a failure prints the
shrunk spec to reproduce with `archcalc COMMAND FILE`.
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from harness import Broken, Worker, check
from strategies import (SHIPPED_TEXT, expression_specs, mostly, mutated_shipped_specs, name_specs, random_specs,
                        yaml_garbage)

TOTAL = int(os.environ.get("ARCHCALC_FUZZ_EXAMPLES", 600))
SEED = os.environ.get("ARCHCALC_FUZZ_SEED")
# each test's share of the cases
SHARES = {"random": 0.35, "mutated": 0.25, "expressions": 0.15, "names": 0.1, "garbage": 0.1, "options": 0.05}

VIEWS = ["params", "flops", "rf", "summary", "memory"]
commands = st.tuples(st.sampled_from(VIEWS), st.sampled_from(["json", "json", "table", "csv", "markdown"])).map(
    lambda c: [c[0], "{spec}", "--format", c[1]])


def fuzz(share: str):
    """The settings for a test with ``share`` of the cases."""
    examples = max(1, int(TOTAL * SHARES[share]))
    configured = settings(max_examples=examples, deadline=None, derandomize=SEED is None, database=None,
                          suppress_health_check=list(HealthCheck), print_blob=True)

    def decorate(test):
        test = configured(test)
        return seed(int(SEED))(test) if SEED is not None else test

    return decorate


@pytest.fixture(scope="module")
def shared_worker():
    running = Worker()
    yield running
    running.stop()


@pytest.fixture
def worker(shared_worker, request):
    """The module's worker; with ARCHCALC_FUZZ_COUNTS=FILE, each test appends to FILE how many
    cases it ran, by exit status (set once per test, not per example)."""
    before = dict(shared_worker.exits)
    yield shared_worker
    counts = os.environ.get("ARCHCALC_FUZZ_COUNTS")
    if counts:
        ran = {status: n - before.get(status, 0) for status, n in shared_worker.exits.items() if n != before.get(status, 0)}
        with open(counts, "a") as handle:
            handle.write(json.dumps({"test": request.node.name, "exits": ran}) + "\n")


def run_and_check(worker: Worker, args: list[str], *specs: str | bytes) -> dict:
    reply = worker.run(args, list(specs))
    check(reply, args)
    return reply


@fuzz("random")
@given(spec=random_specs(), command=commands)
def test_random_layer_lists(worker, spec, command):
    run_and_check(worker, command, spec)


@fuzz("mutated")
@given(case=mutated_shipped_specs(), command=commands)
def test_mutations_of_every_shipped_spec(worker, case, command):
    run_and_check(worker, command, case[1])


@fuzz("expressions")
@given(spec=expression_specs(), command=commands)
def test_hostile_expressions(worker, spec, command):
    run_and_check(worker, command, spec)


@fuzz("names")
@given(spec=name_specs(), command=commands)
def test_hostile_names(worker, spec, command):
    run_and_check(worker, command, spec)


@fuzz("garbage")
@given(spec=yaml_garbage(), command=commands)
def test_yaml_garbage(worker, spec, command):
    run_and_check(worker, command, spec)


OPTION_VALUES = {"--input": ["3x8x8", "3x8", "0x1x1", "3x1048577x1", "abc", "-1", "3×8×8", "1e3x2x2", "x" * 400, "[3, 8, 8]"],
                 "--batch": ["1", "0", "1048576", "1048577", "-3", "1.5", "9" * 40],
                 "--depth": ["1", "0", "2", "99", "-1"], "--dtype": ["float16", "int4"],
                 "--set": ["width=3", "width", "widht=1", "width=1/0", "depth=2**62", "width=[1, [2]]", "k=b: 1", "flag=~",
                           "width=" + "9" * 2000, "s='x' * 3", "width=&a [*a]", "depth=-1", "k=k", "num_classes=7"],
                 # the SPEC argument as FILE:VARIANT (random_specs declares variants v0 and v1 now and then)
                 "variant": ["v0", "v1", "nope", "", "resnet18", "a:b", "x" * 300, "v0:v1"],
                 "--mode": ["train", "eval", "test", ""]}
SPEC_OPTIONS = {"--set", "variant", "--mode"}
TAKES = {view: {"--input", "--batch", "--depth", *SPEC_OPTIONS} for view in ("params", "flops", "rf")}
TAKES.update(summary={"--input", "--batch", "--depth", "--dtype", *SPEC_OPTIONS}, memory={"--input", "--batch", "--dtype", *SPEC_OPTIONS})


@fuzz("options")
@given(spec=mostly(st.sampled_from(sorted(SHIPPED_TEXT.values())), random_specs(), odds=3), view=st.sampled_from(VIEWS),
       options=st.dictionaries(st.sampled_from(sorted(OPTION_VALUES)), st.integers(0, 9), max_size=3))
def test_command_line_options(worker, spec, view, options):
    args = [view, "{spec}", "--format", "json"]
    for option, pick in options.items():
        if option in TAKES[view]:
            values = OPTION_VALUES[option]
            if option == "variant":
                args[1] = f"{{spec}}:{values[pick % len(values)]}"
            else:
                args += [option, values[pick % len(values)]]
    run_and_check(worker, args, spec)


def test_every_shipped_spec_passes_the_contract_unmutated(worker):
    for name, text in SHIPPED_TEXT.items():
        for view in VIEWS:
            reply = run_and_check(worker, [view, "{spec}", "--format", "json"], text)
            assert reply["exit"] == 0, (name, reply["stderr"])


def test_compare_on_a_small_sample(worker):
    texts = list(SHIPPED_TEXT.values())[:3]
    run_and_check(worker, ["compare", "{spec}", "{spec1}", "--format", "json"], texts[0], texts[1])
    run_and_check(worker, ["compare", "{spec}", "{spec1}"], texts[2], "input: 3x8x8\nlayers: [{type: relu, when: 1}]\n")


def test_the_harness_notices_a_broken_contract(worker):
    # the checks themselves can fail: a missing error line, a traceback, a hang are caught
    with pytest.raises(Broken, match="exactly one 'error:' line"):
        check({"exit": 2, "stdout": "", "stderr": "oops\n", "traceback": None}, ["params"])
    with pytest.raises(Broken, match="uncaught exception"):
        check({"exit": 1, "stdout": "", "stderr": "", "traceback": "Traceback ..."}, ["params"])
    with pytest.raises(Broken, match="not the sum"):
        check({"exit": 0, "stderr": "", "traceback": None,
               "stdout": '{"layers": [{"name": "a", "output": [1], "params": 1, "buffers": 0, "macs": 0, "flops": 0, '
                         '"ops": 0, "activations": 1}], "total": {"params": 2, "buffers": 0, "macs": 0, "flops": 0, '
                         '"ops": 0, "activations": 1}, "output": [1]}'}, ["params", "--format", "json"])
