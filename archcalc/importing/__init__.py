"""Sources other than a YAML spec (a PyTorch module, torchvision:/timm: names, a .pt2 program, an
ONNX file) turned into a spec: the SOURCE dispatch every command uses, writing readable YAML, and
reading ONNX. Nothing here imports torch: the PyTorch side (tracing a module) lives in
archcalc.pytorch and is reached lazily."""
