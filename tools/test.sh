#!/usr/bin/env bash
# The whole test set-up on a fresh machine, then the suite: README's test command, and what .ci/run
# runs. Idempotent: what is already installed is only checked (pip's and apt's own no-ops).
#   tools/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# torch 2.13.0 first: on these machines that version is a local CPU build; a plain `torch`
# requirement resolved elsewhere would pull several GB of CUDA packages.
if ! python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
    pip install -q torch==2.13.0
fi
pip install -q ".[test]"

# The report's browser tests: Debian's chromium and its chromedriver (selenium drives them; no
# browser is downloaded), and a font for the screenshots.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver fonts-dejavu-core >/dev/null
    else
        echo "tools/test.sh: no chromium here; as root: apt-get install chromium chromium-driver fonts-dejavu-core" \
             "(the browser tests skip without it, and fail where ARCHCALC_REQUIRE_BROWSER=1)" >&2
    fi
fi

exec python -m pytest "$@"
