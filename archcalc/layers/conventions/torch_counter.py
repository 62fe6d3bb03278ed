"""torch.utils.flop_counter.FlopCounterMode: archcalc's own FLOP figure (LayerResult.flops) is
defined as exactly what FlopCounterMode counts, so this convention is that figure."""

from .base import Convention, LayerFacts, register_convention


def flop_counter_mode(facts: LayerFacts) -> int:
    return facts.result.flops


TORCH = register_convention(Convention(
    name="torch",
    tool="torch 2.13.0 (torch.utils.flop_counter.FlopCounterMode)",
    unit="FLOPs",
    counts="2 FLOPs per multiply-add of convolutions and matrix products (aten.convolution, mm, addmm, bmm); "
           "bias adds, normalisation, activations, pooling and joins count 0",
    default=flop_counter_mode,
))
