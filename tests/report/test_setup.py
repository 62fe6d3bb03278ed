"""The test set-up a fresh machine gets from README's one command (tools/test.sh), and CI's run of
exactly that command with the browser tests made compulsory."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_setup_script_installs_torch_first_then_the_extras_and_the_browser():
    script = (ROOT / "tools" / "test.sh").read_text()
    torch, extras = script.index("pip install -q torch==2.13.0"), script.index('pip install -q ".[test]"')
    assert torch < extras  # a plain torch requirement would pull CUDA builds
    assert re.search(r"apt-get install -y -q chromium chromium-driver", script)
    assert script.rstrip().endswith('exec python -m pytest "$@"')


def test_ci_requires_the_browser_tests():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "export ARCHCALC_REQUIRE_BROWSER=1" in ci
    assert ci.index("ARCHCALC_REQUIRE_BROWSER=1") < ci.index("bash tools/test.sh")


def run_browser_test(env_extra: dict[str, str]):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "ARCHCALC_REQUIRE_BROWSER"}
    env.update({"ARCHCALC_CHROMIUM": "/nonexistent/chromium", **env_extra})
    return subprocess.run([sys.executable, "-m", "pytest", "-rsE", "-p", "no:cacheprovider", "-k", "checks_catch",
                           str(ROOT / "tests" / "report" / "test_browser.py")],
                          capture_output=True, text=True, env=env, cwd=ROOT)


def test_without_a_browser_the_tests_skip_and_ci_fails():
    skipped = run_browser_test({})
    assert skipped.returncode == 0 and "no headless browser" in skipped.stdout, skipped.stdout[-500:]
    failed = run_browser_test({"ARCHCALC_REQUIRE_BROWSER": "1"})
    assert failed.returncode == 1 and "forbids skipping" in failed.stdout, failed.stdout[-500:]
