"""The parsed-spec cache (archcalc.spec.speccache): a cached bundled spec is the loader's output
exactly, and no state of the cache directory (corrupt, stale, unwritable, raced) changes a result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from archcalc.spec import speccache
from archcalc.spec.bundled import architectures_dir
from archcalc.spec.loader import parse_yaml, parse_yaml_value, read_text
from archcalc.spec.nodes import PosDict, PosList

ROOT = Path(__file__).resolve().parents[2]
RESNET = architectures_dir() / "resnet.yaml"
VGG = architectures_dir() / "vgg.yaml"  # shares a mapping through an alias


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ARCHCALC_NO_CACHE", raising=False)
    return tmp_path / "cache" / "archcalc" / f"specs-{speccache.CACHE_FORMAT}"


def identical(a, b, seen_a=None, seen_b=None) -> bool:
    """Equal values, types, positions and key positions, and the same sharing of collections."""
    seen_a = {} if seen_a is None else seen_a
    seen_b = {} if seen_b is None else seen_b
    if type(a) is not type(b):
        return False
    if isinstance(a, (PosDict, PosList)):
        if (id(a) in seen_a) != (id(b) in seen_b) or seen_a.get(id(a)) != seen_b.get(id(b)):
            return False
        if id(a) in seen_a:
            return True
        seen_a[id(a)] = seen_b[id(b)] = len(seen_a)
        if (a.line, a.column) != (b.line, b.column):
            return False
        if isinstance(a, PosDict):
            return (list(a) == list(b) and a.key_positions == b.key_positions
                    and all(identical(a[k], b[k], seen_a, seen_b) for k in a))
        return len(a) == len(b) and all(identical(x, y, seen_a, seen_b) for x, y in zip(a, b))
    return a == b


def parse(path: Path):
    return parse_yaml(read_text(path), str(path))


def uncached(path: Path):
    return parse_yaml_value(read_text(path), str(path))


def entries(cache: Path) -> list[Path]:
    return sorted(cache.iterdir()) if cache.is_dir() else []


def test_every_bundled_spec_reads_back_from_the_cache_exactly(cache):
    specs = sorted(architectures_dir().rglob("*.yaml"))
    for path in specs:
        first = parse(path)  # parsed, and written
        assert identical(first, uncached(path)), path
        assert identical(parse(path), first), path  # read back
    assert len(entries(cache)) == len({read_text(p) for p in specs})


def test_aliases_stay_shared(cache):
    parse(VGG)
    data = parse(VGG)
    (classifier,) = [layer for layer in data["layers"] if isinstance(layer, dict) and layer.get("name") == "classifier"]
    fc = [layer for layer in classifier["layers"] if isinstance(layer, dict) and layer.get("out_features") == 4096]
    assert len(fc) == 2 and fc[0] is fc[1]


def test_a_bundled_net_runs_without_pyyaml(cache, tmp_path):
    script = ("import sys, io, contextlib\nfrom archcalc.cli import run\n"
              "with contextlib.redirect_stdout(io.StringIO()) as out: code = run(['params', 'resnet152'])\n"
              "print(code, 'yaml' in sys.modules, len(out.getvalue()))")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    env.pop("ARCHCALC_NO_CACHE", None)
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout.split()
            for _ in range(2)]
    assert runs[0][:2] == ["0", "True"] and runs[1][:2] == ["0", "False"] and runs[0][2] == runs[1][2]


def test_only_bundled_specs_are_cached(cache, tmp_path):
    own = tmp_path / "architectures" / "net.yaml"  # named like the zoo, but not it
    own.parent.mkdir()
    own.write_text(RESNET.read_text())
    assert identical(parse(own), uncached(RESNET))
    assert entries(cache) == []


def test_the_cache_can_be_turned_off(cache, monkeypatch):
    monkeypatch.setenv("ARCHCALC_NO_CACHE", "1")
    parse(RESNET)
    assert entries(cache) == []


def corruptions(stored: list) -> list[bytes]:
    """Ways an entry can be wrong; every one must read as missing."""
    format_, text, data = stored

    def tamper(change) -> bytes:
        copy = json.loads(json.dumps(data))
        change(copy)
        return json.dumps([format_, text, copy]).encode()

    return [
        b"", b"\x00\xff garbage", json.dumps(stored).encode()[:-40], b"[1, 2", b"null", b"{}",
        json.dumps([format_ + "0", text, data]).encode(),  # from another version of the loader
        json.dumps([format_, text + "\n", data]).encode(),  # another text (stale, or a checksum collision)
        json.dumps([format_, text, ["s", 1, 1]]).encode(),  # a list where the document is a mapping
        tamper(lambda d: d.__setitem__(1, 0)),  # a line 0
        tamper(lambda d: d.__setitem__(2, "1")),  # a column that is not a number
        tamper(lambda d: d.__setitem__(0, "x")),  # an unknown tag
        tamper(lambda d: d.append("extra")),  # a mapping with a key and no value
        tamper(lambda d: d.__setitem__(6, {"a": 1})),  # a JSON object
        tamper(lambda d: d.__setitem__(6, 2**70)),  # an integer past the loader's bound
        tamper(lambda d: d.__setitem__(6, ["r", 0])),  # a reference to the mapping it is in
        tamper(lambda d: d.__setitem__(6, ["r", 999])),  # a reference to nothing
        tamper(lambda d: d.extend([d[3], 1, 1, 0])),  # a key twice
        (json.dumps([format_, text, ["m", 1, 1, "deep", 1, 1, "@"]]).replace(
            '"@"', "[" * 150 + '"s",1,1' + "]" * 150)).encode(),  # nested past MAX_DEPTH
        ("[" * 100_000).encode(),  # past the JSON parser's recursion
    ]


def test_a_corrupt_entry_is_parsed_again_and_rewritten(cache):
    expected = uncached(RESNET)
    parse(RESNET)
    (entry,) = entries(cache)
    stored = json.loads(entry.read_bytes())
    for bad in corruptions(stored):
        entry.write_bytes(bad)
        assert identical(parse(RESNET), expected), bad[:80]
        assert json.loads(entry.read_bytes()) == stored  # written afresh
    assert entries(cache) == [entry]  # no temporary files left


def test_an_entry_that_is_not_a_file_is_ignored(cache):
    expected = uncached(RESNET)
    parse(RESNET)
    (entry,) = entries(cache)
    entry.unlink()
    entry.mkdir()  # cannot be read, nor replaced
    assert identical(parse(RESNET), expected)
    assert entries(cache) == [entry] and entry.is_dir()
    entry.rmdir()
    os.mkfifo(entry)  # never opened for reading (it would block); replaced by the new entry
    assert identical(parse(RESNET), expected)
    assert entry.is_file() and identical(parse(RESNET), expected)


def test_an_unwritable_cache_directory_only_costs_the_parse(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.delenv("ARCHCALC_NO_CACHE", raising=False)
    assert identical(parse(RESNET), uncached(RESNET))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the XDG spec says
    monkeypatch.setenv("HOME", str(blocker))
    assert identical(parse(RESNET), uncached(RESNET))
    assert blocker.read_text() == "x"


def test_a_document_the_cache_cannot_hold_is_not_written(cache, tmp_path):
    import datetime

    entry = cache / "entry.json"
    speccache.write_entry(entry, "text", PosDict(when=datetime.date(2026, 1, 1)))
    speccache.write_entry(entry, "text", {"plain": "dict without positions"})
    assert entries(cache) == []


def test_concurrent_writers_leave_one_whole_entry(cache, tmp_path):
    expected = uncached(RESNET)
    results, errors = [], []

    def reader():
        try:
            for _ in range(5):
                results.append(parse(RESNET))
        except Exception as exc:  # noqa: BLE001  reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 30 and all(identical(r, expected) for r in results)
    # processes too: each writes its own temporary file and renames it into place
    script = ("from archcalc.spec.loader import parse_yaml, read_text; import sys\n"
              f"p = {str(RESNET)!r}\nprint(len(parse_yaml(read_text(p), p)['variants']))")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    for entry in entries(cache):
        entry.unlink()
    processes = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
                 for _ in range(4)]
    outputs = {process.communicate()[0] for process in processes}
    assert outputs == {f"{len(expected['variants'])}\n"}
    (entry,) = entries(cache)
    assert identical(speccache.read_entry(entry, read_text(RESNET)), expected)
