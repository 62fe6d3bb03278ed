"""The loader on hostile files: special files, alias bombs, deep nesting, huge literals. Each is
refused fast, with one clear line and exit status 2 (issue 13)."""

import os
import threading
import time

import pytest

from archcalc.errors import SpecError
from archcalc.spec.loader import MAX_DEPTH, MAX_EXPANDED_NODES, MAX_FILE_BYTES, parse_yaml, read_text
from cli_checks import assert_clean_error, run_spec, runner
from archcalc.cli import app


def invoke_params(path):
    return runner.invoke(app, ["params", str(path)])


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_character_devices_are_refused_before_reading(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    start = time.perf_counter()
    assert_clean_error(invoke_params(device), device, "character device", "not a regular file")
    assert time.perf_counter() - start < 5


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    outcome = {}
    # opened for reading, a FIFO with no writer would block forever: run in a thread to notice
    worker = threading.Thread(target=lambda: outcome.update(result=invoke_params(fifo)), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading a FIFO blocked"
    assert_clean_error(outcome["result"], "named pipe (FIFO)")


def test_proc_files_report_size_zero_but_are_read_with_a_limit():
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc here")
    # /proc/self/status says st_size 0; it is read (bounded) and refused as a spec
    assert_clean_error(invoke_params("/proc/self/status"), "/proc/self/status")


def test_a_file_growing_past_the_limit_is_cut(tmp_path, monkeypatch):
    path = tmp_path / "big.yaml"
    path.write_text("input: 3x8x8\n" + "#" * (MAX_FILE_BYTES + 10) + "\nlayers: [relu]\n")
    # pretend the size check saw nothing (as for /proc files): the read itself must stop
    real_stat = os.stat

    class Zero:
        def __init__(self, info):
            self.st_mode, self.st_size = info.st_mode, 0

    monkeypatch.setattr(os, "stat", lambda p, *a, **k: Zero(real_stat(p, *a, **k)))
    with pytest.raises(SpecError, match="larger than 1,000,000 bytes"):
        read_text(path)


def test_missing_directory_and_unreadable(tmp_path):
    assert_clean_error(invoke_params(tmp_path / "nope.yaml"), "file not found")
    assert_clean_error(invoke_params(tmp_path), "is a directory")
    assert_clean_error(invoke_params(tmp_path / "nope" / "deeper.yaml"), "file not found")


def test_a_very_long_path_is_one_clear_line():
    result = invoke_params("x" * 5000 + ".yaml")
    message = assert_clean_error(result)
    assert len(message) < 500


def billion_laughs(levels: int = 40) -> str:
    text = "input: 3x8x8\nargs:\n  a0: &a0 [relu, relu]\n"
    for i in range(1, levels):
        text += f"  a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n"
    return text + f"layers: *a{levels - 1}\n"


def test_billion_laughs_is_refused_in_under_a_second(tmp_path):
    run_spec(tmp_path, "input: 3x8x8\nlayers: [relu]\n")  # warm the imports
    start = time.perf_counter()
    assert_clean_error(run_spec(tmp_path, billion_laughs()), "expands past", f"{MAX_EXPANDED_NODES:,}")
    assert time.perf_counter() - start < 1


def test_aliases_used_a_few_times_still_work(tmp_path):
    text = "input: 3x8x8\nargs: {k: &k 3}\nlayers:\n  - &c {type: conv2d, out: 4, kernel: *k, padding: 1}\n  - *c\n  - *c\n"
    assert run_spec(tmp_path, text).exit_code == 0


def test_merge_keys_doubling_is_caught_like_aliases():
    text = "m0: &m0 {a: 1, b: 2}\n"
    for i in range(1, 30):
        text += f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}]}}\n"
    with pytest.raises(SpecError, match="expands past"):
        parse_yaml(text)


def test_recursive_alias_is_refused():
    with pytest.raises(SpecError, match="recursive"):
        parse_yaml("input: 3x8x8\nlayers: &x [relu, *x]\n")


@pytest.mark.parametrize("nested", [
    "[" * 100_000 + "]" * 100_000,             # libyaml: quadratic time, then a C stack overflow
    "\n  " + "- " * 100_000 + "x",              # block style: the same stack overflow
    "{a: " * 50_000 + "1" + "}" * 50_000,
])
def test_deep_nesting_is_refused_fast(tmp_path, nested):
    start = time.perf_counter()
    assert_clean_error(run_spec(tmp_path, "input: 3x8x8\nlayers: " + nested + "\n"),
                       f"nests more than {MAX_DEPTH} levels deep")
    assert time.perf_counter() - start < 5


def test_nesting_just_under_the_limit_is_fine():
    depth = MAX_DEPTH - 2  # the top mapping and 'layers' list count too
    data = parse_yaml("input: 3x8x8\nlayers: " + "[" * depth + "]" * depth + "\n")
    assert data["input"] == "3x8x8"


@pytest.mark.parametrize("literal", ["1" * 5000, "100000000000000000000", "-4611686018427387905", "0x" + "f" * 40])
def test_huge_integer_literals_are_refused_where_written(literal):
    with pytest.raises(SpecError, match="too large") as caught:
        parse_yaml(f"input: 3x8x8\nlayers:\n  - {{type: conv2d, out: {literal}, kernel: 3}}\n")
    assert caught.value.line == 3 and len(str(caught.value)) < 200


def test_integer_literals_up_to_the_bound_load():
    assert parse_yaml("a: 4611686018427387904\nb: -4611686018427387904\n") == {"a": 2**62, "b": -(2**62)}


def test_name_that_is_a_structure_is_refused(tmp_path):
    text = billion_laughs(12).replace("layers: *a11", "name: *a11\nlayers: [relu]")
    assert_clean_error(run_spec(tmp_path, text), "'name' must be a text")


@pytest.mark.parametrize("value", ['"\\r"', '"a\\nb"', '"\\u2028x"', '"\\x1c"', '"\\e[31mred"'])
def test_control_characters_in_quoted_values_keep_the_message_one_line(tmp_path, value):
    message = assert_clean_error(run_spec(tmp_path, f"input: {value}\nlayers: [relu]\n"), "input '")
    assert message.isprintable()
