"""The `functional` entry key: carried on the layer's node (and to the conventions' LayerFacts),
refused on groups and when not a boolean, and changing no analysis figure."""

import pytest

from archcalc import analyze_text
from archcalc.errors import SpecError
from archcalc.figures.conventions import layer_facts
from archcalc.graph import load_graph

SPEC = """input: 3x8x8
blocks:
  unit:
    layers:
      - {name: conv, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
      - {name: relu, type: relu, functional: true}
layers:
  - {name: a, type: unit}
  - {name: pool, type: avgpool2d, kernel_size: 2, functional: false}
  - {name: flatten, type: flatten, functional: true}
"""


def test_functional_is_carried_on_nodes_and_facts():
    graph = load_graph("<spec>", text=SPEC)
    assert {n.name: n.functional for n in graph.nodes} == {"a.conv": False, "a.relu": True, "pool": False,
                                                           "flatten": True}
    facts = dict(layer_facts(analyze_text(SPEC)))
    assert facts["a.relu"].functional and facts["flatten"].functional and not facts["a.conv"].functional


def test_a_tensor_method_is_functional_and_says_so():
    facts = dict(layer_facts(analyze_text(SPEC.replace("functional: true}", "functional: tensor_method}"))))
    assert facts["flatten"].functional == "tensor_method" and facts["flatten"].tensor_method
    assert not dict(layer_facts(analyze_text(SPEC)))["flatten"].tensor_method


def test_functional_changes_no_figure():
    plain = analyze_text(SPEC.replace(", functional: true", "").replace(", functional: false", ""))
    assert analyze_text(SPEC).as_json() == plain.as_json()


@pytest.mark.parametrize("entry, message", [
    ("{name: r, type: relu, functional: 1}", "'functional' must be true, false or tensor_method"),
    ("{name: r, type: relu, functional: method}", "'functional' must be true, false or tensor_method"),
    ("{name: g, functional: true, layers: [relu]}", "'functional' belongs to layers"),
])
def test_functional_is_checked(entry, message):
    with pytest.raises(SpecError, match=message):
        load_graph("<spec>", text=f"input: 3x8x8\nlayers:\n  - {entry}\n")
