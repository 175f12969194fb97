#!/usr/bin/env bash
# Set up and run the whole test suite (this is what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# system packages for browser tests and the PDF brief (Chromium, WeasyPrint's libraries, pdftoppm)
bash scripts/ci-system-deps.sh
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "no tests were collected"; exit 1; fi
exit "$rc"
