"""Variants (a family in one file) and net arguments set from outside (--set, args=): the values
replace the spec's declared 'args' and go through the bounded evaluator; every mistake is one
clear error naming the file and line, or --set."""

import pytest

import archcalc
from archcalc.errors import SpecError, UsageError
from archcalc.graph import load_graph
from archcalc.spec.variants import parse_setting, parse_settings

FAMILY = """\
name: fam
description: a family
input: 3x8x8
args: {width: 4, depth: 1}
variants:
  small: {args: {width: 2}, description: the small one}
  deep-one: {args: {depth: width - 1}, input: 3x16x16}
layers:
  - {name: 'c{i}', type: conv2d, out_channels: width * 2, kernel_size: 3, repeat: depth}
"""


def widths(graph):
    return [n.args["out_channels"] for n in graph.nodes]


def test_without_a_variant_the_spec_reads_as_written():
    graph = load_graph("fam.yaml", text=FAMILY)
    assert (graph.name, graph.description, graph.input_shape, widths(graph)) == ("fam", "a family", (3, 8, 8), [8])


def test_a_variant_replaces_arguments_name_description_and_input():
    small = load_graph("fam.yaml", text=FAMILY, variant="small")
    assert (small.name, small.description, widths(small)) == ("small", "the small one", [4])
    deep = load_graph("fam.yaml", text=FAMILY, variant="deep-one")
    assert (deep.name, deep.description, deep.input_shape, widths(deep)) == ("deep-one", "a family", (3, 16, 16), [8, 8, 8])


def test_settings_apply_over_the_variant_and_see_earlier_arguments():
    graph = load_graph("fam.yaml", text=FAMILY, variant="small", settings={"depth": "width + 1"})
    assert widths(graph) == [4, 4, 4]
    assert widths(load_graph("fam.yaml", text=FAMILY, settings={"width": 5})) == [10]


def test_the_python_api_takes_args():
    report = archcalc.analyze_text(FAMILY, args={"width": 2}, variant="deep-one")
    assert report.name == "deep-one" and report.output == (4, 14, 14)
    with pytest.raises(UsageError, match="args must map"):
        archcalc.analyze_text(FAMILY, args=[1])


@pytest.mark.parametrize("kwargs, fragments", [
    ({"variant": "big"}, ["fam.yaml", "no variant named 'big'", "variants: small, deep-one"]),
    ({"variant": "smal"}, ["did you mean 'small'"]),
    ({"settings": {"widht": 3}}, ["--set: 'widht' is not an argument of the net", "did you mean 'width'",
                                  "arguments: width, depth"]),
    ({"settings": {"width": "1/0"}}, ["argument '--set width'", "division by zero"]),
    ({"settings": {"width": "2 ** 2 ** 64"}}, ["argument '--set width'"]),
    ({"settings": {"width": [1, [2]]}}, ["nested lists"]),
])
def test_bad_variants_and_settings_are_clear_errors(kwargs, fragments):
    with pytest.raises(SpecError) as info:
        load_graph("fam.yaml", text=FAMILY, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("variants, line, fragment", [
    ("variants: [a, b]", 5, "'variants' must map variant names"),
    ("variants: {}", 5, "'variants' must map variant names"),
    ("variants: {'a b': {args: {}}}", 5, "variant name 'a b' may only hold"),
    ("variants: {a: 3}", 5, "variant 'a' must be a mapping"),
    ("variants: {a: {arg: {width: 2}}}", 5, "unknown key 'arg' in variant 'a'; did you mean 'args'?"),
    ("variants: {a: {args: [1]}}", 5, "'args' of variant 'a' must be a mapping"),
    ("variants:\n  a:\n    args: {widht: 2}", 7, "variant 'a': 'widht' is not an argument of the net; did you mean 'width'?"),
    ("variants: {a: {input: 3x}}", 5, "input"),
])
def test_a_malformed_variants_mapping_is_located(variants, line, fragment):
    text = FAMILY.replace(FAMILY[FAMILY.index("variants:"):FAMILY.index("layers:")], variants + "\n")
    with pytest.raises(SpecError) as info:
        load_graph("fam.yaml", text=text, variant="a")
    assert f"fam.yaml:{line}" in str(info.value) and fragment in str(info.value), str(info.value)


def test_a_variant_value_error_points_at_the_variant():
    text = FAMILY.replace("{width: 2}", "{width: 1 // 0}")
    with pytest.raises(SpecError, match=r"fam.yaml:6:.*argument 'width'.*division by zero"):
        load_graph("fam.yaml", text=text, variant="small")


@pytest.mark.parametrize("text, value", [("a=10", 10), ("a=true", True), ("a=[2, 2]", [2, 2]), ("a=width * 2", "width * 2"),
                                         (" a = 2.5 ", 2.5), ("a='x'", "x"), ("a=b=c", "b=c")])
def test_settings_are_yaml_values(text, value):
    assert parse_setting(text) == ("a", value)


@pytest.mark.parametrize("text, fragment", [("a", "--set takes NAME=VALUE"), ("=3", "--set takes NAME=VALUE"),
                                            ("a=", "no value"), ("a=~", "null"), ("a=b: 1", "a mapping"),
                                            ("a=&x [*x]", "recursive"), ("a=!!python/object:os.system 1", "invalid YAML"),
                                            ("a=" + "9" * 2000, "longer than")])
def test_bad_settings_are_usage_errors(text, fragment):
    with pytest.raises(UsageError, match="--set") as info:
        parse_setting(text)
    assert fragment in str(info.value)


def test_the_last_setting_of_a_name_wins():
    assert parse_settings(["a=1", "b=2", "a=3"]) == {"a": 3, "b": 2}
