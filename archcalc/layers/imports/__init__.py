"""How other formats' operations map onto archcalc's layer types, as tables keyed by the foreign
name (a torch.nn class or functional op, an ONNX op type), so no importer branches on a layer
type's name (the same pattern as layers/conventions/)."""
