#!/usr/bin/env bash
# Create ./.venv (if needed) and install crimescope with every extra the tests use.
# Usage: source-free; prints nothing but pip's errors. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[all]"
