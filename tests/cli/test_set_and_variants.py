"""--set on every command that takes a SPEC, and variants named like bundled nets (resnet18 is a
variant of architectures/resnet.yaml) or as FILE:VARIANT."""

import json

import pytest

from archcalc.spec.bundled import NetPath, bundled, resolve_spec
from cli_checks import assert_clean_error, runner
from archcalc.cli import app

FAMILY = """\
name: fam
input: 3x8x8
args: {width: 4, num_classes: 10}
variants:
  small: {args: {width: 2}, description: the small one}
layers:
  - {name: conv, type: conv2d, out_channels: width, kernel_size: 3}
  - {type: flatten}
  - {name: fc, type: linear, out_features: num_classes}
"""
RESNETS = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "resnet101": 44_549_160,
           "resnet152": 60_192_808}
VGGS = {"vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg16_bn": 138_365_992, "vgg19": 143_667_240}


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def family(tmp_path):
    path = tmp_path / "fam.yaml"
    path.write_text(FAMILY)
    return path


@pytest.mark.parametrize("command", [["params"], ["flops"], ["rf"], ["summary"], ["memory"], ["flops", "--pass", "train"]])
def test_set_changes_the_figures_of_every_analysis_command(family, command):
    plain = invoke(command[0], family, *command[1:], "-f", "json")
    changed = invoke(command[0], family, *command[1:], "-f", "json", "--set", "width=3", "--set", "num_classes=width * 2")
    assert plain.exit_code == 0 and changed.exit_code == 0, changed.output
    assert plain.stdout != changed.stdout


def test_set_values(family):
    out = json.loads(invoke("params", family, "-f", "json", "--set", "width=5", "--set", "num_classes=width + 1").stdout)
    assert out["output"] == [6]
    assert out["total"]["params"] == 3 * 9 * 5 + 5 + 5 * 36 * 6 + 6


def test_compare_applies_set_to_every_net(family):
    result = invoke("compare", f"{family}:small", family, "--set", "num_classes=2", "-f", "json")
    assert result.exit_code == 0, result.output
    assert "small" in result.stdout


@pytest.mark.parametrize("args, fragments", [
    (["--set", "widht=3"], ["fam.yaml", "'widht' is not an argument of the net", "did you mean 'width'",
                            "(arguments: width, num_classes)"]),
    (["--set", "width"], ["--set takes NAME=VALUE"]),
    (["--set", "width=1/0"], ["--set width", "division by zero"]),
    (["--set", "width=x"], ["--set width", "unknown name 'x'"]),
    (["--set", "width=0"], ["conv"]),
])
def test_set_mistakes_are_one_line(family, args, fragments):
    assert_clean_error(invoke("params", family, *args), *fragments)


def test_unknown_setting_on_a_net_without_args(tmp_path):
    (tmp_path / "n.yaml").write_text("input: 3x8x8\nlayers: [relu]\n")
    assert_clean_error(invoke("summary", tmp_path / "n.yaml", "--set", "a=1"), "no 'args'")


def test_file_colon_variant(family):
    out = json.loads(invoke("params", f"{family}:small", "-f", "json").stdout)
    assert out["name"] == "small" and out["layers"][0]["output"] == [2, 6, 6]
    assert_clean_error(invoke("params", f"{family}:big"), "no variant named 'big'", "(variants: small)")
    assert_clean_error(invoke("params", f"{family}x:small"), "file not found")


@pytest.mark.parametrize("name, params", sorted({**RESNETS, **VGGS}.items()))
def test_family_variants_resolve_by_name_as_before(name, params, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    family = "resnet" if name.startswith("resnet") else "vgg"
    for spec in (name, f"{name}.yaml", f"architectures/{name}.yaml", f"{family}:{name}"):
        result = invoke("params", spec, "-f", "json")
        assert result.exit_code == 0, (spec, result.output)
        out = json.loads(result.stdout)
        assert (out["name"], out["total"]["params"]) == (name, params)
    assert isinstance(bundled()[name], NetPath) and bundled()[name].variant == name
    assert resolve_spec(name).name == f"{family}.yaml"


def test_a_bundled_variant_takes_set(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = json.loads(invoke("params", "resnet18", "--set", "num_classes=10", "-f", "json").stdout)
    assert out["total"]["params"] == RESNETS["resnet18"] - 990 * 513
    # the family itself, by its file's name: its own args (ResNet-50's)
    out = json.loads(invoke("params", "resnet", "-f", "json").stdout)
    assert (out["name"], out["total"]["params"]) == ("resnet", RESNETS["resnet50"])


def test_zoo_lists_the_variants():
    rows = json.loads(invoke("zoo", "-f", "json").stdout)
    listed = {row["name"]: row for row in rows}
    for name, params in {**RESNETS, **VGGS}.items():
        assert listed[name]["params"] == params
        assert (listed[name]["file"], listed[name]["variant"]) == (f"{name.rstrip('_bn').rstrip('0123456789')}.yaml", name)
    assert "resnet" not in listed and "vgg" not in listed and listed["alexnet"]["variant"] is None


def test_export_and_help_know_set(family):
    pytest.importorskip("torch")
    result = invoke("export", family, "--set", "width=3")
    assert result.exit_code == 0 and "nn.Conv2d(3, 3, kernel_size=3)" in result.stdout, result.output
    for command in ("params", "flops", "rf", "summary", "memory", "compare", "verify", "export"):
        assert "--set" in invoke(command, "--help").stdout, command


def test_a_bundled_name_resolves_as_the_whole_listing_says(tmp_path, monkeypatch):
    """resolve_spec finds a bundled name by parsing only the families whose text holds it; what
    it finds is exactly bundled()'s entry (file, variant) for every bundled net, and a family's
    own name or an unknown name still goes the long way."""
    from archcalc.spec.bundled import bundled_net

    monkeypatch.chdir(tmp_path)  # no file of these names here
    nets = bundled()
    for name, path in nets.items():
        found = resolve_spec(name)
        assert (found, getattr(found, "variant", None)) == (path, getattr(path, "variant", None)), name
    for name in ("resnet", "vgg", "no_such_net", "bottleneck"):
        assert bundled_net(name) == nets.get(name)
    assert resolve_spec("resnet").name == "resnet.yaml"  # a family by its file's name, as before
