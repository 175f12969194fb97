#!/usr/bin/env bash
# The main job: set up, ingest Chicago into the default store, print a summary,
# then serve the dashboard on http://127.0.0.1:8000 (Ctrl-C stops it; set
# CRIMESCOPE_NO_SERVE=1 to stop after the summary).
#   - from ../shared/data/chicago when present (six yearly exports + the later homicide extract,
#     and the Gun Violence Archive incidents as the second source `gva`),
#   - otherwise a bounded download of recent years from the City of Chicago portal.
# Store: $CRIMESCOPE_STORE or ./crimescope.duckdb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
DATA=${CRIMESCOPE_SHARED_DATA:-../shared/data}
if [ -d "$DATA/chicago/crimes" ]; then
  set +e
  crimescope ingest chicago "$DATA"/chicago/crimes/*.csv.gz "$DATA"/chicago/homicides-2001-2017.csv.gz
  rc=$?
  set -e
  [ "$rc" -le 1 ] || exit "$rc"
  if [ -f "$DATA/chicago/other/gva_chicago_2016_2017.csv" ]; then
    # a second, news-based source of shooting victims (claims about victims are checked against it)
    crimescope ingest gva "$DATA/chicago/other/gva_chicago_2016_2017.csv" || [ "$?" -le 1 ] || exit 2
  fi
else
  echo "no local data at $DATA: downloading the last three years from the City of Chicago portal"
  crimescope sync chicago --occurred-since "$(date -d '3 years ago' +%Y-01-01)"
fi
crimescope reference   # boundaries, populations, code lists: shipped with the package (exit 3 if one is missing)
crimescope info
if [ -z "${CRIMESCOPE_NO_SERVE:-}" ]; then
  echo "dashboard: http://127.0.0.1:8000  (Ctrl-C to stop)"
  exec crimescope serve
fi
