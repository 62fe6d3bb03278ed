"""Regenerate the pictures in docs/plots.md (docs/images/plot_*.png, rf_*.png) with the commands
that page documents:

    python tools/plot_images.py

The photo is matplotlib's own sample picture of Grace Hopper (public domain, shipped in
matplotlib/mpl-data/sample_data), so nothing is downloaded. The PNGs are kept small (60 dpi
figures, scale-2 fields): they are committed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
PHOTO = "hopper.jpg"  # in the commands; the script passes matplotlib's sample file under this name

# (the command as docs/plots.md shows it, its output under docs/images)
COMMANDS = [
    ("archcalc plot resnet50 --kind params -o plot_params.png --dpi 60", "plot_params.png"),
    ("archcalc plot densenet169 --kind flops -o plot_flops.png --dpi 60", "plot_flops.png"),
    ("archcalc plot resnet50 --kind rf -o plot_rf.png --dpi 60", "plot_rf.png"),
    ("archcalc plot resnet50 --kind memory --batch 32 -o plot_memory.png --dpi 60", "plot_memory.png"),
    ("archcalc rf resnet50 --draw hopper.jpg --layer layer2.3.relu --at 8,13 --scale 2 -o rf_hopper.png",
     "rf_hopper.png"),
    ("archcalc rf resnet50 --checkerboard --layer layer3.0.conv2 --at 0,2 --scale 2 -o rf_checkerboard.png",
     "rf_checkerboard.png"),
]


def photo() -> str:
    import matplotlib.cbook

    return str(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    for command, output in COMMANDS:
        words = command.split()[1:]
        words = [photo() if w == PHOTO else str(IMAGES / output) if w == output else w for w in words]
        done = subprocess.run([sys.executable, "-m", "archcalc", *words], cwd=ROOT)
        if done.returncode:
            return done.returncode
        print(f"{output}: {(IMAGES / output).stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
