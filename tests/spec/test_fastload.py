"""The loader's fast path (libyaml events straight to PosDict/PosList) gives exactly what the
composing loader gives, positions included, and leaves everything unusual to it."""

from pathlib import Path

import pytest
import yaml

from archcalc.errors import SpecError
from archcalc.spec.fastload import Unsupported, fast_load
from archcalc.spec.loader import parse_yaml
from archcalc.spec.yamlparse import _PositionLoader, compose_load
from archcalc.spec.nodes import PosDict, PosList

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "architectures").rglob("*.yaml"))


def same(a, b) -> bool:
    """Equal data, equal types and equal positions, all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, PosDict):
        return ((a.line, a.column, a.key_positions) == (b.line, b.column, b.key_positions)
                and list(a) == list(b) and all(same(a[k], b[k]) for k in a))
    if isinstance(a, PosList):
        return (a.line, a.column) == (b.line, b.column) and len(a) == len(b) and all(map(same, a, b))
    return a == b or (a != a and b != b)  # nan


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_bundled_spec_loads_the_same_on_both_paths(path):
    text = path.read_text()
    assert same(fast_load(text, _PositionLoader), compose_load(text))


ORDINARY = [
    "a: 1\nb: [1, 2.5, -3, .inf, .nan, true, no, ~, null, '7', \"x\"]\n",
    "base: &b {k: 3, s: 1}\nlayers: [*b, *b, {x: *b}]\n",
    "1: one\n2.5: two\ntrue: three\n",
    "layers:\n  - name: c1\n    type: conv2d\n    out_channels: 64\n  -\n    - nested\n    - [deep, [deeper]]\n",
    "x: 0x1F\ny: 0o17\nz: 1_000\nw: 1e3\nv: +12\n",
    "empty_map: {}\nempty_list: []\nempty_value:\n",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_yaml_takes_the_fast_path_with_the_same_result(text):
    assert same(fast_load(text, _PositionLoader), compose_load(text))


LEFT_TO_THE_COMPOSER = [
    "a: !!str 3\n",  # explicit tag
    "base: &b {k: 3}\nnet: {<<: *b, j: 2}\n",  # merge key
    "a: 1\na: 2\n",  # repeated key
    "? [1, 2]\n: x\n",  # a collection as a key
    "~: x\n",  # a null key
    "a: *nowhere\n",  # undefined alias
    "a: 1\n---\nb: 2\n",  # two documents
    "t: 2001-12-14\n",  # a timestamp
    "a: 99999999999999999999999999\n",  # past the integer bound
    "[" * 150 + "]" * 150,  # deeper than the bound
]


@pytest.mark.parametrize("text", LEFT_TO_THE_COMPOSER)
def test_unusual_yaml_is_left_to_the_composing_loader(text):
    with pytest.raises((Unsupported, SpecError, yaml.YAMLError)):
        fast_load(text, _PositionLoader)


@pytest.mark.parametrize("text", LEFT_TO_THE_COMPOSER + ORDINARY)
def test_parse_yaml_answers_as_the_composing_loader_does(text):
    try:
        expected = compose_load(text)
    except (SpecError, yaml.YAMLError) as exc:
        with pytest.raises(SpecError):
            parse_yaml(text)
        return
    if isinstance(expected, PosDict):
        assert same(parse_yaml(text), expected)


def test_an_alias_bomb_is_stopped_on_the_fast_path_too():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(Unsupported, match="expands"):
        fast_load("\n".join(lines) + "\n", _PositionLoader)
    with pytest.raises(SpecError, match="expands past"):
        parse_yaml("\n".join(lines) + "\n")


def test_a_written_out_deep_spec_takes_the_fast_path():
    from big_specs import chain_spec  # tests/ is on the path (rootdir)

    text = chain_spec(2000, written_out=True)
    assert same(fast_load(text, _PositionLoader), compose_load(text))
