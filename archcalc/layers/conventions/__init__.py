"""Peer tools' counting conventions (issue 12): how torchinfo, fvcore, ptflops, thop, torchscan,
calflops and torch's FlopCounterMode each count a layer, reproduced per layer type.

A convention is a table, after fvcore's op handles: one small rule per layer type name (the
table lives here, inside layers/, so no code outside layers/ branches on a type's name), and a
default rule for every type the table does not name (what the tool does with a module it has no
handler for). Each module of this package registers one or more conventions. Rules return the
tool's count for one sample; ``Convention.total`` applies the tool's own batch handling.

Every rule was read from the tool's source at the pinned version (``Convention.tool``) and is
tested against the installed tool on the bundled torchvision nets (tests/pytorch/test_conventions*).
"""

from .base import (CONVENTIONS, Convention, LayerFacts, Rule, convention_names, hooked, lookup_convention,
                   patched, register_convention, traced, zero)
from . import torch_counter  # noqa: E402,F401,I001  (registration order = the order tables show)
from . import torchinfo, fvcore  # noqa: E402,F401,I001
from . import ptflops  # noqa: E402,F401,I001  (ptflops, ptflops-aten)
from . import thop  # noqa: E402,F401,I001
from . import torchscan, calflops  # noqa: E402,F401,I001

__all__ = ["CONVENTIONS", "Convention", "LayerFacts", "Rule", "convention_names", "hooked", "lookup_convention",
           "patched", "register_convention", "traced", "zero"]
