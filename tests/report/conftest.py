"""Fixtures of the report tests: the reports the browser opens, and the headless browser (skipped
only where none can be had; ARCHCALC_REQUIRE_BROWSER=1, which tools/test.sh and .ci/run set, turns
that skip into a failure)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import browser
from reportkit import write_report


@pytest.fixture(scope="session")
def reports(tmp_path_factory) -> dict[str, Path]:
    """The reports the browser tests open, each written once per session by the command."""
    folder = tmp_path_factory.mktemp("reports")
    return {"resnet50": write_report(folder / "resnet50.html", "resnet50"),
            "densenet169": write_report(folder / "densenet169.html", "densenet169"),
            "compare": write_report(folder / "compare.html", "bottleneck", "plain_3x3")}


@pytest.fixture(scope="session")
def driver():
    why = browser.missing()
    if why is not None:
        if os.environ.get("ARCHCALC_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the browser tests cannot run: {why} (ARCHCALC_REQUIRE_BROWSER=1 forbids skipping them)")
        pytest.skip(f"no headless browser: {why}")
    chrome = browser.start()
    yield chrome
    chrome.quit()
