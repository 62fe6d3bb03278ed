"""docs/plots.md shows the commands tools/plot_images.py runs to make its pictures, and the
pictures are there, small PNGs."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from plot_images import COMMANDS  # noqa: E402

PAGE = (ROOT / "docs" / "plots.md").read_text()


def test_every_picture_is_made_by_the_command_shown_above_it():
    images = re.findall(r"!\[[^\]]*\]\(images/([^)]+)\)", PAGE)
    assert sorted(images) == sorted(output for _, output in COMMANDS)
    for command, output in COMMANDS:
        block = PAGE.index(f"```sh\n{command}\n```")
        assert block < PAGE.index(f"(images/{output})"), command
        # the next picture after the command is its own
        assert re.search(r"\(images/([^)]+)\)", PAGE[block:])[1] == output


def test_the_pictures_are_small_pngs():
    for _, output in COMMANDS:
        data = (ROOT / "docs" / "images" / output).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) < 200_000, output
