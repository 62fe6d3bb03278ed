"""Every kind of bad input: one clear message naming file, line (and column) and layer; exit 2; no traceback."""

import time

import pytest
from typer.testing import CliRunner

from archcalc.cli import app

runner = CliRunner()


def run(tmp_path, text, name="net.yaml"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return runner.invoke(app, ["params", str(path)])


def assert_clean_error(result, *fragments):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    message = result.output.strip()
    assert message.startswith("error: ") and len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


CASES = {
    "invalid_yaml": ("input: 3x8x8\nlayers:\n  - {type: conv2d, out: 4, kernel: 3\n", ["net.yaml:4:1", "invalid YAML"]),
    "unknown_type": ("input: 3x8x8\nlayers:\n  - {type: convv2d, out: 4, kernel: 3}\n",
                     ["net.yaml:3:", "layer '0'", "unknown layer type 'convv2d'", "did you mean 'conv2d'"]),
    "unknown_argument": ("input: 3x8x8\nlayers:\n  - {name: c1, type: conv2d, out_channels: 4, kernal_size: 3}\n",
                         ["net.yaml:3:", "layer 'c1'", "'kernal_size'", "did you mean 'kernel_size'"]),
    "missing_argument": ("input: 3x8x8\nlayers:\n  - {name: c1, type: conv2d, out_channels: 4}\n",
                         ["net.yaml:3:", "layer 'c1'", "needs argument 'kernel_size'"]),
    "ill_typed_argument": ("input: 3x8x8\nlayers:\n  - {name: c1, type: conv2d, out_channels: 4, kernel_size: 3, bias: 7}\n",
                           ["net.yaml:3:", "layer 'c1'", "'bias'", "true or false"]),
    "ill_typed_list": ("input: 3x8x8\nlayers:\n  - {name: c1, type: conv2d, out_channels: 4, kernel_size: [3, 3, 3]}\n",
                       ["layer 'c1'", "'kernel_size'", "pair"]),
    "negative_size": ("input: 3x8x8\nlayers:\n  - {name: c1, type: conv2d, out_channels: -4, kernel_size: 3}\n",
                      ["layer 'c1'", "at least 1"]),
    "unknown_reference": ("input: 3x8x8\nlayers:\n  - {name: a, type: relu}\n  - {name: b, type: add, inputs: [a, aa2]}\n",
                          ["net.yaml:4:", "layer 'b'", "unknown layer 'aa2'"]),
    "unknown_block": ("input: 3x8x8\nblocks:\n  basic: {layers: [relu]}\nlayers:\n  - {type: basik}\n",
                      ["net.yaml:5:", "unknown layer type 'basik'", "did you mean 'basic'"]),
    "unknown_block_argument": ("input: 3x8x8\nblocks:\n  basic: {args: {width: 4}, layers: [relu]}\nlayers:\n  - {type: basic, widht: 8}\n",
                               ["net.yaml:5:", "'widht'", "did you mean 'width'"]),
    "cycle": ("input: 3x8x8\nlayers:\n  - {name: a, type: relu, inputs: b}\n  - {name: b, type: relu, inputs: a}\n",
              ["net.yaml:3", "cycle"]),
    "block_uses_itself": ("input: 3x8x8\nblocks:\n  foo: {layers: [{type: bar}]}\n  bar: {layers: [{type: foo}]}\nlayers:\n  - {type: foo}\n",
                          ["net.yaml:", "block 'foo' uses itself (foo -> bar -> foo)"]),
    "add_shapes": ("input: 64x56x56\nlayers:\n  - {name: a, type: conv2d, out: 128, kernel: 3, stride: 2, padding: 1}\n"
                   "  - {name: s, type: add, inputs: [a, input]}\n",
                   ["net.yaml:4:", "layer 's'", "128x28x28", "64x56x56"]),
    "concat_shapes": ("input: 64x56x56\nlayers:\n  - {name: a, type: conv2d, out: 32, kernel: 3, stride: 2, padding: 1}\n"
                      "  - {name: s, type: concat, inputs: [a, input]}\n",
                      ["layer 's'", "32x28x28", "64x56x56"]),
    "empty_output": ("input: 3x5x5\nlayers:\n  - {name: big, type: conv2d, out: 4, kernel: 7}\n",
                     ["net.yaml:3:", "layer 'big'", "kernel 7x7 does not fit a 5x5 input with padding 0"]),
    "flat_into_conv": ("input: 3x8x8\nlayers:\n  - flatten\n  - {name: c, type: conv2d, out: 4, kernel: 3}\n",
                       ["layer 'c'", "flat vector"]),
    "linear_mismatch": ("input: 3x8x8\nlayers:\n  - flatten\n  - {name: fc, type: linear, in_features: 100, out_features: 4}\n",
                        ["layer 'fc'", "in_features is 100", "192"]),
    "unknown_top_key": ("input: 3x8x8\nlayer:\n  - relu\n", ["net.yaml:2:1", "did you mean 'layers'"]),
    "bad_input": ("input: 3x8x8x8x8\nlayers: [relu]\n", ["net.yaml:1:", "3 dimensions"]),
    "bad_expression": ("input: 3x8x8\nargs: {w: 4}\nlayers:\n  - {name: c, type: conv2d, out: __import__('os'), kernel: 3}\n",
                       ["layer 'c'", "only"]),
    "expression_unknown_name": ("input: 3x8x8\nargs: {width: 4}\nlayers:\n  - {name: c, type: conv2d, out: widht * 2, kernel: 3}\n",
                                ["layer 'c'", "unknown name 'widht'", "did you mean 'width'"]),
    "huge_number": ("input: 3x8x8\nlayers:\n  - {name: c, type: conv2d, out: 2 ** 64 ** 2, kernel: 3}\n", ["layer 'c'"]),
    "duplicate_name": ("input: 3x8x8\nlayers:\n  - {name: a, type: relu}\n  - {name: a, type: relu}\n", ["net.yaml:4:", "two layers are named 'a'"]),
    "python_tag": ("input: 3x8x8\nlayers: !!python/object/apply:os.system ['echo pwned']\n", ["invalid YAML"]),
    "padding_same_strided": ("input: 3x8x8\nlayers:\n  - {name: c, type: conv2d, out: 4, kernel: 3, stride: 2, padding: same}\n",
                             ["layer 'c'", "'same' needs stride 1"]),
    "repeat_too_many": ("input: 3x8x8\nlayers:\n  - {type: relu, repeat: 10 ** 9}\n", ["net.yaml:3:", "exceeds"]),
    "not_a_mapping": ("- relu\n- relu\n", ["must be a mapping"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_spec_gives_one_clear_error(tmp_path, case):
    text, fragments = CASES[case]
    assert_clean_error(run(tmp_path, text), *fragments)


def test_missing_file(tmp_path):
    assert_clean_error(runner.invoke(app, ["params", str(tmp_path / "nope.yaml")]), "nope.yaml", "file not found")


def test_empty_file(tmp_path):
    assert_clean_error(run(tmp_path, ""), "net.yaml", "empty")


def test_directory(tmp_path):
    (tmp_path / "d.yaml").mkdir()
    assert_clean_error(runner.invoke(app, ["params", str(tmp_path / "d.yaml")]), "directory")


def test_binary_file(tmp_path):
    assert_clean_error(run(tmp_path, bytes(range(256))), "not a text file")


def test_non_utf8_file(tmp_path):
    assert_clean_error(run(tmp_path, b"input: 3x8x8\nlayers: [\xff\xfe]\n"), "UTF-8")


def test_unknown_bundled_name_lists_close_matches():
    assert_clean_error(runner.invoke(app, ["params", "alexnett"]), "alexnet")


def _alias_bomb(levels=30):
    text = "input: 3x8x8\nblocks:\n  holder:\n    layers: &a0 [relu, relu]\n"
    for i in range(1, levels):
        text += f"  h{i}:\n    layers: &a{i} [{{layers: *a{i - 1}}}, {{layers: *a{i - 1}}}]\n"
    return text + f"layers: *a{levels - 1}\n"


def test_yaml_alias_bomb_is_refused_fast(tmp_path):
    start = time.perf_counter()
    message = assert_clean_error(run(tmp_path, _alias_bomb()), "expands past")
    assert time.perf_counter() - start < 10, message  # 2**30 layers if expanded


def test_nested_repeats_are_refused_fast(tmp_path):
    text = "input: 3x8x8\nblocks:\n  b0: {layers: [relu]}\n"
    for i in range(1, 9):
        text += f"  b{i}: {{layers: [{{type: b{i - 1}, repeat: 100}}]}}\n"
    text += "layers: [{type: b8}]\n"
    start = time.perf_counter()
    assert_clean_error(run(tmp_path, text), "expands past")
    assert time.perf_counter() - start < 10


def test_bad_cli_options(tmp_path):
    spec = tmp_path / "ok.yaml"
    spec.write_text("input: 3x8x8\nlayers: [relu]\n")
    assert_clean_error(runner.invoke(app, ["params", str(spec), "--input", "3xbanana"]), "--input")
    result = runner.invoke(app, ["params", str(spec), "--format", "xml"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = runner.invoke(app, ["params", str(spec), "--batch", "0"])
    assert result.exit_code == 2
