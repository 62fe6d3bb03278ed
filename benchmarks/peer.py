"""One peer measurement, run in its own process by bench.py:

    python benchmarks/peer.py TOOL SPEC HEIGHT WIDTH

TOOL is torchinfo, fvcore or ptflops. The process builds the PyTorch module from the spec with
archcalc.pytorch.twin.build_module (as a user's code would build the model; that time counts),
runs the tool on a batch-1 input and prints one JSON line: the parameters and MACs the tool
reports, and the seconds spent building and in the tool.
"""

from __future__ import annotations

import json
import sys
import time
import warnings


def run_torchinfo(model, shape):
    import torchinfo

    stats = torchinfo.summary(model, input_size=(1, *shape), verbose=0, device="cpu")
    return {"params": stats.total_params, "macs": stats.total_mult_adds}


def run_fvcore(model, shape):
    import torch
    from fvcore.nn import FlopCountAnalysis, parameter_count

    analysis = FlopCountAnalysis(model, torch.zeros(1, *shape))
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    # fvcore counts one "flop" per multiply-add: its total is MACs
    return {"params": parameter_count(model)[""], "macs": int(analysis.total())}


def run_ptflops(model, shape):
    from ptflops import get_model_complexity_info

    macs, params = get_model_complexity_info(
        model, tuple(shape), as_strings=False, print_per_layer_stat=False, verbose=False, backend="pytorch"
    )
    return {"params": int(params), "macs": int(macs)}


TOOLS = {"torchinfo": run_torchinfo, "fvcore": run_fvcore, "ptflops": run_ptflops}


def main(argv: list[str]) -> None:
    tool, spec, height, width = argv[0], argv[1], int(argv[2]), int(argv[3])
    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    import torch

    from archcalc.graph import load_graph
    from archcalc.pytorch.twin import build_module
    from archcalc.spec.bundled import resolve_spec

    torch.set_grad_enabled(False)
    graph = load_graph(resolve_spec(spec))
    shape = (graph.input_shape[0], height, width)
    model = build_module(graph).eval()
    built = time.perf_counter()
    result = TOOLS[tool](model, shape)
    done = time.perf_counter()
    result.update(tool=tool, build_s=built - start, tool_s=done - built)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
