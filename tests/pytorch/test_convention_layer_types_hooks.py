"""Every layer type archcalc has, counted by ptflops (both backends), torchscan and calflops on the
spec's PyTorch twin (archcalc.to_torch, one module per layer named as the spec names it; joins use
the + and * operators and torch.cat) against `flops --convention`: totals and per-module figures,
at batch 1 and 3. The spec is test_convention_layer_types.py's."""

import contextlib

import pytest

import convention_tools as tools  # first: it imports torchvision the way this torch build allows
from test_convention_layer_types import SPEC, leaves, ours

import archcalc

torch = pytest.importorskip("torch")
ptflops = pytest.importorskip("ptflops")
torchscan = pytest.importorskip("torchscan")
calflops = pytest.importorskip("calflops")

SHAPE = (3, 26, 26)


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "every_type.yaml"
    path.write_text(SPEC)
    return archcalc.to_torch(str(path)).eval()


def own_figures(model, attribute, divisor=1):
    return {name: getattr(m, attribute) / divisor for name, m in model.named_modules() if hasattr(m, attribute)}



@pytest.mark.parametrize("batch", [1, 3])
def test_ptflops_every_type(twin, batch):
    stream = tools.Snapshot(lambda: own_figures(twin, "__flops__", twin.__batch_counter__))
    with torch.no_grad():
        total, _ = ptflops.get_model_complexity_info(twin, SHAPE, as_strings=False, ost=stream, flops_units="Mac",
                                                     input_constructor=lambda s: torch.zeros(batch, *SHAPE))
    counted = ours("ptflops", batch)
    facts = dict(tools.layer_facts(archcalc.analyze_text(SPEC, batch=batch)))
    convention = counted.convention
    hooks = {name: convention.scale(convention.count(f), batch) for name, f in facts.items()}
    # nn.Upsample's hook counts the first sample's output once per call: C*H*W / batch per sample,
    # a fraction ptflops sums before its int(); archcalc rounds each such layer down
    upsamples = [f.output_numel / batch for f in facts.values() if f.type_name == "upsample"]
    hooks.update({name: f.output_numel / batch for name, f in facts.items() if f.type_name == "upsample"})
    assert {name: v for name, v in stream.taken.items() if name} == {name: hooks[name] for name in stream.taken if name}
    assert total - counted.total == int(sum(upsamples)) - sum(int(u) for u in upsamples)
    assert total - counted.total == (1 if batch == 3 else 0)


@pytest.mark.parametrize("batch", [1, 3])
def test_ptflops_aten_every_type(twin, batch):
    with torch.no_grad():
        total, _ = ptflops.get_model_complexity_info(twin, SHAPE, as_strings=False, backend="aten",
                                                     print_per_layer_stat=False,
                                                     input_constructor=lambda s: torch.zeros(batch, *SHAPE))
    assert ours("ptflops-aten", batch).total == total


@pytest.mark.parametrize("batch", [1, 3])
def test_torchscan_every_type(twin, batch):
    crawled = torchscan.crawl_module(twin, args=(torch.zeros(batch, *SHAPE),))
    counted = ours("torchscan", batch)
    tool = {layer["path"]: layer["metrics"]["module_flops"]["known_value"] for layer in crawled["layers"]
            if "module_flops" in layer["metrics"]}
    # gelu, silu, hardswish, ... are "Module type not supported": the total is partial, its
    # known_value what summary prints
    assert crawled["totals"]["module_flops"]["status"] == "partial"
    assert crawled["totals"]["module_flops"]["known_value"] == sum(tool.values())
    # The one documented difference: the twin gives pools a (k, k) tuple where torchvision gives
    # an int k; torchscan counts prod(k, k) - 1 per output for the tuple, k - 1 for the int, which
    # the convention assumes (archcalc keeps kernels as pairs and cannot tell them apart)
    facts = dict(tools.layer_facts(archcalc.analyze_text(SPEC, batch=batch)))
    tuple_kernel = {name: batch * f.output_numel * (f.args["kernel_size"][0] ** 2 - f.args["kernel_size"][0])
                    for name, f in facts.items() if f.type_name in ("maxpool2d", "avgpool2d")}
    assert tuple_kernel == {"pool": batch * 1352 * 2, "avg": batch * 1352 * 6,
                            "pool_same": batch * 1352 * 6, "avg_asym": batch * 1352 * 2,
                            "pool_asym": batch * 1352 * 2}
    assert tool == {name: counted.layers[name] + tuple_kernel.get(name, 0) for name in leaves(twin)}


# calflops' _upsample_flops_compute compares the scale factor's length with len(input), the batch:
# for a tuple factor (the twin's nn.Upsample has one) any batch but 2 raises TypeError in calflops
@pytest.mark.parametrize("batch", [2])
def test_calflops_every_type(twin, batch):
    stream = tools.Snapshot(lambda: own_figures(twin, "__flops__"))
    with contextlib.redirect_stdout(stream), torch.no_grad():
        flops, _, _ = calflops.calculate_flops(twin, input_shape=(batch, *SHAPE), print_detailed=False,
                                               output_as_string=False)
    counted = ours("calflops", batch)
    assert counted.total == flops
    assert {name: stream.taken[name] for name in leaves(twin)} == {name: counted.layers[name] for name in leaves(twin)}


def test_calflops_fails_on_a_tuple_scale_factor_unless_the_batch_is_its_length(tmp_path):
    from calflops.calculate_pipline import old_functions
    from calflops.pytorch_ops import _reload_functionals, _reload_tensor_methods

    path = tmp_path / "every_type.yaml"
    path.write_text(SPEC)
    model = archcalc.to_torch(str(path)).eval()  # its own: calflops leaves its hooks on a model it fails on
    try:
        with contextlib.redirect_stdout(tools.Snapshot(dict)), pytest.raises(TypeError, match="pow"):
            calflops.calculate_flops(model, input_shape=(1, *SHAPE), print_detailed=False, output_as_string=False)
    finally:  # and torch.nn.functional patched
        _reload_functionals(old_functions)
        _reload_tensor_methods(old_functions)
