#!/usr/bin/env bash
# Create ./.venv (if needed) and install crimescope with every extra the tests use.
# Usage: source-free; prints nothing but pip's errors. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# (this machine's pip config names local mirrors that may be absent: drop those notices)
quiet() { grep -v -e "^WARNING: Location" -e "^ *$" || true; }
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | quiet
.venv/bin/python -m pip install -q -e ".[all]" 2>&1 | quiet
.venv/bin/python -c "import crimescope" # fail here, clearly, if the install did not work
