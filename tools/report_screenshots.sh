#!/usr/bin/env bash
# Regenerates docs/images/report-*.png: the browser tests open the reports that the documented
# commands write (archcalc report resnet50 / densenet169 / bottleneck plain_3x3) and save their
# screenshots there; then the graph picture of docs/report.md, by the command it shows.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/images
ARCHCALC_SCREENSHOTS=docs/images ARCHCALC_REQUIRE_BROWSER=1 python -m pytest -q -p no:cacheprovider tests/report/test_browser.py
python -m archcalc graph inception_reduced -o docs/images/report-graph-inception.png
ls -l docs/images/report-*
