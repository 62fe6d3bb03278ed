"""Names are untrusted: whatever a spec names its net, its description or its layers, the export
imports, runs no code from a name, scripts with TorchScript, and verify neither crashes nor lets
torch's own errors escape as tracebacks."""

import importlib.util
import subprocess
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")

from archcalc.graph import load_graph  # noqa: E402
from archcalc.pytorch.export import to_pytorch_source  # noqa: E402
from archcalc.pytorch.verify import verify  # noqa: E402
from archcalc.spec.bundled import bundled, comparisons  # noqa: E402

HOSTILE = '''
name: {name}
description: {description}
input: 3x8x8
layers:
  - {{name: training, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}}
  - {{name: __debug__, type: relu}}
  - {{name: None, type: relu}}
  - {{name: train, type: conv2d, out_channels: 4, kernel_size: 1, trainable: false}}
  - {{name: add, type: add, inputs: [training, train]}}
  - name: forward
    layers: [{{name: "0", type: relu}}, {{name: self, type: identity}}]
'''

NAMES = [
    ("None", "'ends in a quote\"'"),
    ("add", '"closes the docstring \\"\\"\\" early"'),
    ("'Group'", "'a NUL \\0 and an ESC \\e[31m in the text'"),
    ("'\"\"\"; import os; os.system(\"touch PWNED\"); \"\"\"'", "'\"\"\"\\n__import__(\"os\").system(\"touch PWNED\")\\n\"\"\"'"),
    ("'x = 1'", "'\\\\'"),
]


def write_export(tmp_path, name, description):
    text = textwrap.dedent(HOSTILE.format(name=name, description=description))
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    source = to_pytorch_source(load_graph(path))
    module_path = tmp_path / "exported_hostile.py"
    module_path.write_text(source)
    return path, module_path, source


@pytest.mark.parametrize("name, description", NAMES)
def test_hostile_names_export_a_file_that_imports_and_runs_no_code_from_a_name(tmp_path, name, description):
    _, module_path, source = write_export(tmp_path, name, description)
    assert "\x00" not in source and "\x1b" not in source
    # import and run in a fresh process whose working directory would receive the PWNED file
    code = ("import sys, torch; sys.path.insert(0, '.'); import exported_hostile as m; net = m.build().eval(); "
            "out = net(torch.zeros(2, 3, 8, 8)); assert tuple(out.shape) == (2, 4, 8, 8); "
            "names = dict(net.named_modules()); assert {'training', '__debug__', 'None', 'train', 'add', 'forward.0', "
            "'forward.self'} <= set(names); assert net.training is False and names['training'].training is False")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "PWNED").exists()


def test_the_hostile_names_module_is_counted_like_the_spec(tmp_path):
    path, module_path, _ = write_export(tmp_path, "add", "'x'")
    spec = importlib.util.spec_from_file_location("exported_hostile_count", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.build()
    assert not any(p.requires_grad for p in net._modules["train"].parameters())  # trainable: false
    assert sum(p.numel() for p in net.parameters()) == 3 * 3 * 3 * 4 + 4 + 4 * 4 + 4


@pytest.mark.parametrize("name", sorted({**bundled(), **{f"compare/{k}": v for k, v in comparisons().items()}}))
def test_every_bundled_export_scripts_with_torchscript(tmp_path, name):
    path = {**bundled(), **{f"compare/{k}": v for k, v in comparisons().items()}}[name]
    module_path = tmp_path / "scripted.py"
    module_path.write_text(to_pytorch_source(load_graph(path)))
    spec = importlib.util.spec_from_file_location("scripted", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    scripted = torch.jit.script(module.build())
    graph = load_graph(path)
    with torch.no_grad():
        # batch 2: in training, a batch norm over a 1x1 map (Inception v3's auxiliary head) needs two
        out = scripted(torch.zeros((2, *graph.input_shape)))
    assert out.shape[0] == 2


def test_verify_handles_layers_named_like_module_attributes(tmp_path):
    path, _, _ = write_export(tmp_path, "ok", "'fine'")
    result = verify(load_graph(path), rf=False)
    assert result.ok, result.mismatches


def test_an_argument_torch_refuses_is_one_clear_line(tmp_path):
    spec = tmp_path / "refused.yaml"
    spec.write_text("input: 3x8x8\nlayers:\n  - {type: conv2d, out_channels: 4, kernel_size: 3}\n  - {type: dropout, p: 1.5}\n")
    result = subprocess.run([sys.executable, "-m", "archcalc", "verify", str(spec), "--no-rf"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="address-space limit via resource.setrlimit")
def test_torch_failing_to_allocate_within_a_memory_limit_is_one_clear_line(tmp_path):
    """Free memory looks sufficient, but the process may use only 4 GB (ulimit -v, a cgroup)."""
    import resource

    spec = tmp_path / "big.yaml"
    spec.write_text("input: [40000]\nlayers:\n  - {type: linear, out_features: 40000}\n")  # 6.4 GB of weights

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    result = subprocess.run([sys.executable, "-m", "archcalc", "verify", str(spec), "--no-rf"], capture_output=True,
                            text=True, preexec_fn=limit)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert "allocate" in result.stderr or "memory" in result.stderr


DASHED = """\
input: 3x8x8
layers:
  - name: trunk_output
    layers:
      - name: block1
        layers:
          - {name: 'block1-{i}', type: conv2d, out_channels: 4, kernel_size: 3, padding: 1, repeat: 2}
  - {name: block1_1, type: relu}
  - {name: a-b, type: conv2d, out_channels: 4, kernel_size: 1}
  - {name: add, type: add, inputs: [trunk_output, a-b]}
"""


def test_dashed_names_export_scripts_and_verify(tmp_path):
    """'block1-0' is no identifier: the export reaches it through getattr, its variables never
    collide with a name written with '_', and the module names are the spec's."""
    path = tmp_path / "dashed.yaml"
    path.write_text(DASHED)
    module_path = tmp_path / "exported_dashed.py"
    module_path.write_text(to_pytorch_source(load_graph(path)))
    spec = importlib.util.spec_from_file_location("exported_dashed", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.build()
    assert {"trunk_output.block1.block1-0", "trunk_output.block1.block1-1", "a-b"} <= set(dict(net.named_modules()))
    scripted = torch.jit.script(net)
    assert scripted(torch.zeros(1, 3, 8, 8)).shape == (1, 4, 8, 8)
    assert verify(load_graph(path), rf=False).ok
