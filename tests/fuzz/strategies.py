"""Hypothesis strategies over the spec grammar: mostly sensible layer lists (so that cases get
deep into the analysis) salted with garbage values, hostile expressions and names, mutations of
every shipped spec, and YAML garbage."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from hypothesis import strategies as st

from archcalc.layers.base import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "architectures").glob("*.yaml")) + sorted((ROOT / "architectures" / "compare").glob("*.yaml"))
SHIPPED_TEXT = {path.relative_to(ROOT).as_posix(): path.read_text() for path in SHIPPED}

HOSTILE_EXPRESSIONS = [
    "round(5, -(2**62))", "0 ** -1", "10.0 ** 300 * 10.0 ** 300", "-'text'", "(-8) ** 0.5", "2 ** 2 ** 64",
    "1.5 ** (2**62)", "1e999", "int(1e300)", "ceil(1e300)", "'x' * 3", "[1] + [2]", "min()", "max([])",
    "1 // 0", "1 % 0.0", "x.y", "x[0]", "__import__('os')", "(lambda: 1)()", "1j", "'a' + 'b'", "not []",
    "-" * 300 + "1", "(" * 120 + "1" + ")" * 120, "9" * 499, "int('" + "9" * 300 + "')", "round(2.5, 25)",
    "abs(-2**62)", "2**62 + 1", "-(2**62) - 1", "1 < 'a'", "[1, [2]]", "i * 2**40", "i if i else 1/0",
    "{}", "{1: 2}", "f'{1}'", "yield 1", "a := 1", "*x", "lambda: 0", "1 if", "", " ", "\x00", "名前",
]
ARG_NAMES = ["width", "depth", "k", "name", "i", "s", "flag"]
GARBAGE_SCALARS = [0, -1, 1.5, 64.0, 1e18, 1e300, float("inf"), float("-inf"), float("nan"), 2**20, 2**20 + 1,
                   2**62, 2**63, -(2**63), 10**30, True, False, None, "", "same", "valid", "nearest", "x" * 300,
                   [], [1], [1, 2, 3], [[1, 2]], {"a": 1}, [None, 2], "width", "width * 2", "k + 1"]


def expressions() -> st.SearchStrategy[str]:
    """Hostile expressions and random little ones over numbers, block names and the builtins."""
    atom = st.one_of(st.integers(-5, 70).map(str), st.sampled_from(ARG_NAMES + ["2**62", "1e308", "0.5", "'ab'"]))
    binary = st.tuples(atom, st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "<", "==", " and ", " or "]), atom)
    call = st.tuples(st.sampled_from(["min", "max", "abs", "int", "round", "ceil", "floor", "len", "eval"]),
                     st.lists(atom, max_size=3))
    return st.one_of(
        st.sampled_from(HOSTILE_EXPRESSIONS),
        atom,
        binary.map("".join),
        call.map(lambda c: f"{c[0]}({', '.join(c[1])})"),
        st.tuples(binary.map("".join), atom, atom).map(lambda t: f"{t[1]} if {t[0]} else {t[2]}"),
        st.text(alphabet="0123456789+-*/%() .e'xiwk[],<=>", max_size=40),
    )


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy, odds: int = 12) -> st.SearchStrategy:
    """``good`` about ``odds`` times in ``odds`` + 1, else ``bad`` (st.one_of would pick each half
    the time, and a spec with one bad part is refused before the analysis is reached)."""
    return st.integers(0, odds).flatmap(lambda pick: bad if pick == 0 else good)


def garbage() -> st.SearchStrategy:
    return st.one_of(st.sampled_from(GARBAGE_SCALARS), expressions(), st.integers(), st.floats(),
                     st.text(max_size=30), st.lists(st.integers(-3, 9), max_size=3))


def _sensible(name: str) -> st.SearchStrategy:
    """A value the argument ``name`` would plausibly have."""
    if name in ("in_channels", "in_features", "num_features"):
        return st.one_of(st.none(), st.integers(1, 16))
    if name in ("padding", "output_padding"):
        return st.one_of(st.integers(0, 2), st.sampled_from(["same", "valid", "tf_same", [0, 1], [0, 1, 2, 0], [1, 1, 0, 0]]))
    if name in ("eps", "momentum", "alpha", "beta", "k", "negative_slope", "p"):
        return st.floats(0, 2)
    if name in ("bias", "affine", "track_running_stats", "ceil_mode", "count_include_pad", "inplace", "align_corners"):
        return st.booleans()
    if name in ("mode", "approximate"):
        return st.sampled_from(["nearest", "bilinear", "none", "tanh"])
    if name == "dim":
        return st.integers(0, 3)
    if name in ("output_size", "size"):
        return st.one_of(st.integers(1, 6), st.sampled_from([[None, 2], [3, 1]]))
    if name in ("out_channels", "out_features"):
        return st.one_of(st.integers(1, 24), st.sampled_from(["width", "width * 2", "width // 2 + 1"]))
    if name in ("groups", "size"):
        return st.integers(1, 2)
    return st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 3), st.integers(1, 3)).map(list), st.just("k"))


# Feature-map layers most of the time, so that chains of them reach the analysis; flat-vector
# layers (linear, batchnorm1d), joins and reshapes less often.
COMMON = [layer for layer in REGISTRY.values() if layer.family in ("convolution", "pooling", "padding", "activation", "normalisation")]


def _arguments(draw, layer) -> dict:
    """Required arguments, some optional ones (upsample: exactly one of scale_factor and size),
    each sensible but for about one in 26."""
    chosen = [arg for arg in layer.args if arg.required or draw(st.integers(0, 3)) == 0]
    if layer.name == "upsample":
        wanted = draw(st.sampled_from(["scale_factor", "size"]))
        chosen = [arg for arg in chosen if arg.name not in ("scale_factor", "size")] + \
            [arg for arg in layer.args if arg.name == wanted]
    return {draw(st.sampled_from([arg.name, *arg.aliases])): draw(mostly(_sensible(arg.name), garbage(), odds=25))
            for arg in chosen}


@st.composite
def layer_entry(draw, names: list[str]) -> dict | str:
    """One entry: a bare type, or a type with mostly sensible arguments, some garbage, some
    references to earlier names, repeats and conditions."""
    layer = draw(mostly(st.sampled_from(COMMON), st.sampled_from(list(REGISTRY.values())), odds=3))
    type_name = draw(st.sampled_from([layer.name, *layer.aliases]))
    if not any(arg.required for arg in layer.args) and layer.arity == 1 and draw(st.integers(0, 5)) == 0:
        return type_name
    entry: dict = {"type": type_name, **_arguments(draw, layer)}
    if draw(st.integers(0, 40)) == 0:
        entry[draw(st.sampled_from(["kernal_size", "foo", "layers", "output", "x" * 80]))] = 1
    repeated = draw(st.integers(0, 10)) == 0
    if repeated:
        entry["repeat"] = draw(mostly(st.sampled_from([0, 1, 2, 3, "depth", "depth + 1"]), st.sampled_from([-1, 10**9, 2.5, "i"])))
    if draw(st.integers(0, 2)) == 0:
        good = f"n{len(names)}-{{i}}" if repeated else f"n{len(names)}"
        entry["name"] = draw(mostly(st.just(good), st.sampled_from(HOSTILE_NAMES), odds=8))
    if layer.arity == "many" or (names and draw(st.integers(0, 5)) == 0):
        count = 2 if layer.arity == "many" else 1
        pool = st.sampled_from(names + ["input"])
        entry["inputs"] = draw(mostly(st.lists(pool, min_size=count, max_size=count + (layer.arity == "many")),
                                      st.lists(st.sampled_from(names + ["nope", "input"]), min_size=0, max_size=3)))
    if draw(st.integers(0, 8)) == 0:
        entry["trainable"] = draw(mostly(st.booleans(), garbage()))
    if draw(st.integers(0, 10)) == 0:
        entry["when"] = draw(mostly(st.sampled_from([True, False, "flag", "width > 4", "k == 3"]), st.sampled_from(["1", "[1]", "i == 0"])))
    return entry


HOSTILE_NAMES = ["a", "b_1", "A9", "", "input", "a.b", "a b", "x" * 250, "{i}", "{1/0}", "{'x' * 1}", "名前", "{", "}", "{{i}}",
                 "{width}{width}", "0", "sequential", "conv2d", "n0", "{" + "9" * 100 + "}", "\x00", "-", 7, True,
                 "a-b", "-a", "block1-{i}", "x-{1/0}", "n-{width - 1}"]


@st.composite
def random_specs(draw) -> str:
    """A random spec: input, batch, net arguments, perhaps a block, a layer list, an output."""
    names: list[str] = []
    layers = []
    for _ in range(draw(st.integers(1, 10))):
        entry = draw(layer_entry(names))
        layers.append(entry)
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            names.append(entry["name"])
    spec: dict = {
        "input": draw(mostly(st.sampled_from(["3x16x16", "8x9x7", [4, 12, 12], "2x33x31", "1x1x1", "2x64x3", [20], "4x20", "2x5x9x9"]), garbage())),
        "args": {"width": draw(mostly(st.integers(1, 16), garbage())), "depth": draw(st.integers(0, 3)),
                 "k": draw(st.integers(1, 5)), "flag": draw(st.booleans()), "s": "'ab'"},
        "layers": layers,
    }
    if draw(st.booleans()):
        spec["batch"] = draw(mostly(st.integers(1, 4), garbage()))
    if draw(st.integers(0, 3)) == 0:
        spec["blocks"] = {"unit": {"args": {"width": None, "k": 3, "flag": True},
                                   "layers": [draw(layer_entry([])) for _ in range(draw(st.integers(1, 3)))]}}
        call = {"type": "unit", "width": draw(mostly(st.integers(1, 8), garbage()))}
        if draw(st.booleans()):  # a frozen block call (an inner layer may unfreeze itself)
            call["trainable"] = draw(mostly(st.booleans(), garbage()))
        spec["layers"].append(call)
    if names and draw(st.integers(0, 4)) == 0:
        spec["output"] = draw(st.sampled_from(names + ["nope", 3]))
    elif names and draw(st.integers(0, 4)) == 0:
        spec["outputs"] = draw(outputs(names))
    if draw(st.integers(0, 3)) == 0:
        spec["variants"] = draw(variants())
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


def outputs(names: list[str]) -> st.SearchStrategy:
    """Several outputs, some of one mode only (auxiliary heads), now and then malformed."""
    entry = st.one_of(st.sampled_from(names), st.fixed_dictionaries(
        {"name": st.sampled_from(names)}, optional={"mode": mostly(st.sampled_from(["train", "eval"]), garbage())}))
    sensible = st.tuples(st.sampled_from(names), st.lists(entry, max_size=3)).map(lambda t: [t[0], *t[1]])
    bad = st.one_of(garbage(), st.lists(st.one_of(entry, garbage(), st.just({"mode": "train"}), st.just("nope")), max_size=3))
    return mostly(sensible, bad, odds=6)


def variants() -> st.SearchStrategy:
    """A family's variants: mostly two sensible ones (v0, v1) over the net's args, some garbage."""
    sensible = st.fixed_dictionaries({"args": st.dictionaries(st.sampled_from(["width", "depth", "k", "flag"]),
                                                              mostly(st.integers(0, 8), garbage()), max_size=3)},
                                     optional={"description": st.text(max_size=20),
                                               "input": st.sampled_from(["3x12x12", "3x1", [20], "0x1x1"])})
    bad = st.one_of(garbage(), st.dictionaries(st.sampled_from(["arg", "args", "input", "x" * 80]), garbage(), max_size=2),
                    st.just({"args": {"nope": 1}}))
    return mostly(st.fixed_dictionaries({"v0": sensible, "v1": mostly(sensible, bad)}),
                  st.one_of(garbage(), st.dictionaries(st.sampled_from(["v0", "a b", "-v", "名前", ""]), bad, max_size=2)),
                  odds=6)


VALID_EXPRESSIONS = ["width * 2", "max(k, 2)", "round(width / 3)", "int(width ** 0.5)", "8 if width > 4 else 4",
                     "width // k + 1", "min([width, 16, k * 4])", "ceil(width / 5)", "abs(-k)", "floor(7.9)"]


@st.composite
def expression_specs(draw) -> str:
    """Net arguments and layer arguments that are expressions: in half the specs all plausible
    (so their values reach the analysis), in the rest hostile ones too; each net argument sees
    the ones before it (so text can be doubled from one to the next)."""
    hostile = draw(st.booleans())
    pick = expressions() if hostile else st.sampled_from(VALID_EXPRESSIONS)
    args = {"width": 8, "k": 3, "s": "'ab'"}
    for index in range(draw(st.integers(0, 6))):
        doubled = f"a{index - 1} + a{index - 1}" if index else "s + s"
        args[f"a{index}"] = draw(st.one_of(pick, st.just(doubled))) if hostile else draw(pick)
    layer = {"type": "conv2d", "out_channels": draw(pick), "kernel_size": draw(mostly(st.just(3), pick, odds=2)),
             "padding": draw(mostly(st.just(1), pick, odds=2))}
    extra = {"type": "relu", "repeat": draw(mostly(st.just(2), pick, odds=2)), "name": "r{" + draw(mostly(st.just("i"), pick)) + "}"}
    return yaml.safe_dump({"input": "3x12x12", "args": args, "layers": [layer, extra]}, sort_keys=False, allow_unicode=True)


@st.composite
def name_specs(draw) -> str:
    """Hostile names and references (about one name in three), in nested groups."""
    name = mostly(st.sampled_from(["a", "b_1", "A9", "x0", "a-b", "block1-0"]), st.sampled_from(HOSTILE_NAMES), odds=2)
    first, second = draw(name), draw(name)
    references = mostly(st.lists(st.sampled_from([first, "g", "input"]), min_size=2, max_size=3),
                        st.lists(st.sampled_from(HOSTILE_NAMES + ["g", "input"]), min_size=1, max_size=3), odds=2)
    layers = [{"name": first, "type": "relu"},
              {"name": "g", "layers": [{"name": second, "type": "relu"}, {"type": "add", "inputs": [second, "input"]}],
               "output": draw(st.sampled_from([second, None, None, "nope"])),
               "trainable": draw(st.sampled_from([True, False, False, "no"]))},
              {"type": "add", "inputs": draw(references)}]
    spec = {"input": "2x6x6", "layers": layers}
    if draw(st.booleans()):
        spec["output"] = draw(mostly(st.sampled_from([first, "g"]), st.sampled_from(HOSTILE_NAMES), odds=2))
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


_REPLACEMENTS = ["0", "-1", "1048577", "1e18", ".inf", ".nan", "1.5", "'x'", "9" * 80, "[1, 2, 3]", "null", "true",
                 "{}", "*nope", "&a", "round(5, -(2**62))", "2 ** 2 ** 64", "'ab' + 'cd'", "input", "relu"]


@st.composite
def mutated_shipped_specs(draw) -> tuple[str, str]:
    """A shipped spec (every one of them over a run) with one to three small mutations."""
    name = draw(st.sampled_from(sorted(SHIPPED_TEXT)))
    text = SHIPPED_TEXT[name]
    for _ in range(draw(st.integers(1, 3))):
        lines = text.splitlines()
        kind = draw(st.sampled_from(["number", "word", "delete", "duplicate", "swap", "truncate", "indent", "value"]))
        if kind in ("number", "word", "value"):
            pattern = {"number": r"\b\d+\b", "word": r"\b[a-z_][a-z_0-9]*\b", "value": r"(?<=: )[^,}\n]+"}[kind]
            matches = list(re.finditer(pattern, text))
            if matches:
                match = matches[draw(st.integers(0, len(matches) - 1))]
                replacement = draw(st.one_of(st.sampled_from(_REPLACEMENTS), st.sampled_from(ARG_NAMES),
                                             st.sampled_from(sorted(REGISTRY))))
                text = text[:match.start()] + replacement + text[match.end():]
        elif lines:
            index = draw(st.integers(0, len(lines) - 1))
            if kind == "delete":
                del lines[index]
            elif kind == "duplicate":
                lines.insert(index, lines[index])
            elif kind == "swap":
                other = draw(st.integers(0, len(lines) - 1))
                lines[index], lines[other] = lines[other], lines[index]
            elif kind == "indent":
                lines[index] = draw(st.sampled_from(["", "  ", "    ", "\t"])) + lines[index].lstrip()
            else:
                lines = lines[:index]
            text = "\n".join(lines) + "\n"
    return name, text


def bombs() -> st.SearchStrategy[str]:
    def laughs(levels: int) -> str:
        text = "input: 3x8x8\nblocks:\n  h:\n    layers: [relu]\n    comment:\n      a0: &a0 [relu, relu]\n"
        for i in range(1, levels):
            text += f"      a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n"
        return text + f"layers: *a{levels - 1}\n"

    def nested_blocks(shape: tuple[int, int]) -> str:
        blocks, groups = shape
        lines = ["input: 3x8x8", "blocks:"]
        for block in range(blocks):
            inner = f"{{type: b{block + 1}}}" if block < blocks - 1 else "relu"
            for _ in range(groups):
                inner = f"{{layers: [{inner}]}}"
            lines.append(f"  b{block}: {{layers: [{inner}]}}")
        return "\n".join(lines + ["layers: [{type: b0}]"]) + "\n"

    return st.one_of(
        st.integers(2, 40).map(laughs),
        st.tuples(st.integers(1, 80), st.integers(0, 45)).map(nested_blocks),
        st.integers(1, 400).map(lambda n: "input: 3x8x8\nlayers: " + "[" * n + "relu" + "]" * n + "\n"),
        st.integers(1, 300).map(lambda n: "input: 3x8x8\nlayers:\n  " + "- " * n + "relu\n"),
        st.just("input: 3x8x8\nlayers: &x [relu, *x]\n"),
        st.just("input: 3x8x8\nlayers: !!python/object/apply:os.system ['true']\n"),
        st.just("input: 3x8x8\nlayers: [!!binary aGVsbG8=, !!set {a}, !!omap [{a: 1}], 2001-01-01]\n"),
    )


def yaml_garbage() -> st.SearchStrategy[str | bytes]:
    """Random text over YAML's punctuation, random bytes, and crafted bombs."""
    alphabet = "abc-:[]{},&*!|>'\"#%@`?\n \t0123456789.xelayersinput"
    return st.one_of(st.text(alphabet=alphabet, max_size=300), st.text(max_size=100), st.binary(max_size=200), bombs(),
                     st.text(alphabet=alphabet, max_size=200).map(lambda t: "input: 3x8x8\nlayers:\n" + t))
