"""Building the module a SOURCE names (archcalc.importing.sources) and importing it: torchvision
and timm models by name (never with weights), an object in a Python file, constructed on the meta
device (no memory, no initialisation arithmetic) where its code allows, else on the cpu."""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import sys
from pathlib import Path

import torch

from ..errors import SpecError, UsageError, clip, near_miss
from .fx_trace import ImportError_

DEFAULT_INPUT = (3, 224, 224)


@contextlib.contextmanager
def meta_construction():
    """Build modules on the meta device; torch.arange/tensor/linspace stay on the cpu, since model
    code computes widths and rates with them and reads them back (RegNet's .tolist(), timm's
    drop-path rates), which a meta tensor cannot do. Parameters are still meta."""
    saved = torch.arange, torch.tensor, torch.linspace

    def on_cpu(factory):
        return lambda *args, **kwargs: factory(*args, **{"device": "cpu", **kwargs})

    torch.arange, torch.tensor, torch.linspace = (on_cpu(f) for f in saved)
    try:
        with torch.device("meta"):
            yield
    finally:
        torch.arange, torch.tensor, torch.linspace = saved


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {clip(text, 300)}" if text else type(exc).__name__


def construct(factory, args: tuple, kwargs: dict, label: str) -> torch.nn.Module:
    """factory(*args, **kwargs) on the meta device, else on the cpu; a failure is one line."""
    try:
        with meta_construction():
            module = factory(*args, **kwargs)
    except Exception:  # noqa: BLE001  code that needs real tensors while it builds: build it on the cpu
        try:
            module = factory(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001  the user's constructor raised
            raise ImportError_(f"constructing {label} raised {_reason(exc)}") from None
    if not isinstance(module, torch.nn.Module):
        raise ImportError_(f"{label} gave a {type(module).__name__}, not a torch.nn.Module")
    return module.eval()


def _call_label(source) -> str:
    parts = [repr(a) for a in source.args] + [f"{k}={v!r}" for k, v in source.kwargs.items()]
    return f"{source.target}({', '.join(parts)})"


def torchvision_source(source):
    from .torchvision_models import torchvision_models

    models = torchvision_models()
    names = models.list_models()
    if source.target not in names:
        near = near_miss(source.target, names, n=4)
        hint = f"; close matches: {', '.join(near)}" if near else ""
        raise UsageError(f"torchvision has no model '{clip(source.target)}'{hint}")
    kwargs = {"weights": None, **source.kwargs}
    if kwargs.get("weights") is not None or kwargs.get("weights_backbone") is not None:
        raise UsageError("archcalc never loads weights: leave out weights= and weights_backbone=")
    builder = models.get_model_builder(source.target)
    if "weights_backbone" in inspect.signature(builder).parameters:  # segmentation: else ImageNet weights
        kwargs["weights_backbone"] = None
    module = construct(lambda: builder(**kwargs), (), {}, f"torchvision:{_call_label(source)}")
    return module, default_input(models, source.target)


VIDEO_FRAMES = 16  # torchvision's video classification reference samples clips of 16 frames


def default_input(models, name: str) -> tuple[int, ...]:
    """The input torchvision evaluates the model's (first) weights at, read from their transforms
    without downloading anything: the crop size (299 for Inception-v3, 112x112 and 16 frames for
    the video nets), the resize size for segmentation (520), else 224."""
    try:
        transforms = next(iter(models.get_model_weights(name))).transforms
    except (ValueError, StopIteration, AttributeError, KeyError):
        return DEFAULT_INPUT
    keywords = getattr(transforms, "keywords", {}) or {}
    size = keywords.get("crop_size", keywords.get("resize_size", 224))
    height, width = (size, size) if isinstance(size, int) else (tuple(size) * 2)[:2]
    if getattr(getattr(transforms, "func", None), "__name__", "") == "VideoClassification":
        return (3, VIDEO_FRAMES, height, width)
    return (3, height, width)


def timm_source(source):
    try:
        if importlib.util.find_spec("torchvision") is not None:  # timm imports torchvision: tolerantly first
            from .torchvision_models import torchvision_models

            torchvision_models()
        import timm
    except ModuleNotFoundError:
        raise UsageError("timm: sources need the timm package (pip install 'archcalc[import]')") from None
    if not timm.is_model(source.target):
        near = near_miss(source.target, timm.list_models(), n=4)
        hint = f"; close matches: {', '.join(near)}" if near else ""
        raise UsageError(f"timm has no model '{clip(source.target)}'{hint}")
    if source.kwargs.get("pretrained"):
        raise UsageError("archcalc never loads weights: leave out pretrained=True")
    kwargs = {**source.kwargs, "pretrained": False}
    module = construct(lambda: timm.create_model(source.target, **kwargs), (), {}, f"timm:{_call_label(source)}")
    config = getattr(module, "pretrained_cfg", None) or getattr(module, "default_cfg", None) or {}
    shape = tuple(config.get("input_size") or DEFAULT_INPUT)
    return module, shape


def python_source(source):
    path = Path(source.file)
    if not path.is_file():
        raise SpecError("file not found", file=source.file)
    name = f"_archcalc_import_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SpecError("cannot be loaded as a Python module", file=source.file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    directory = str(path.resolve().parent)
    sys.path.insert(0, directory)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001  the user's file raised while it ran
        sys.modules.pop(name, None)
        raise ImportError_(f"{source.file}: running the file raised {_reason(exc)}") from None
    except SystemExit:
        sys.modules.pop(name, None)
        raise ImportError_(f"{source.file}: the file called exit() while it ran") from None
    finally:
        if sys.path and sys.path[0] == directory:
            sys.path.pop(0)
    target = module
    for part in source.target.split("."):
        if not hasattr(target, part):
            names = [n for n in dir(target) if not n.startswith("_")]
            near = near_miss(part, names, n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise ImportError_(f"{source.file} has no '{clip(source.target)}'{hint}")
        target = getattr(target, part)
    if isinstance(target, torch.nn.Module):
        if source.args or source.kwargs:
            raise UsageError(f"{source.target} is a module instance; it takes no arguments")
        built = target.eval()
    elif callable(target):
        built = construct(target, source.args, source.kwargs, _call_label(source))
    else:
        raise ImportError_(f"{source.file}: '{clip(source.target)}' is a {type(target).__name__}, not a module class "
                           "or a function that returns a module")
    return built, DEFAULT_INPUT


BUILDERS = {"torchvision": torchvision_source, "timm": timm_source, "python": python_source}


def build_source(source):
    """(module, its default input shape) for a source."""
    return BUILDERS[source.kind](source)


def import_torch_source(source, input_shape=None, partial: bool = False):
    from .importer import import_module

    module, default = build_source(source)
    shape = tuple(input_shape) if input_shape else tuple(default)
    result = import_module(module, shape, name=source.name, partial=partial, description=f"imported from {source.text}")
    result.module = module
    if not input_shape and source.kind == "python":
        result.notes.append(f"input {'x'.join(map(str, shape))} (the default for a model from a file; --input sets it)")
    return result
