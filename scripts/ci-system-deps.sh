#!/usr/bin/env bash
# System packages for the web tests and the PDF brief (Debian/Ubuntu):
#   chromium            browser driven by the Playwright tests (executable /usr/bin/chromium)
#   fonts-dejavu-core   fonts for the browser and for WeasyPrint
#   libpango*, libharfbuzz*, libcairo2, libgdk-pixbuf  WeasyPrint's native libraries
#   poppler-utils       pdftoppm, used by a test to turn the brief's first page into a PNG
# Idempotent and quiet: installs only what is missing. Needs root (or sudo).
set -euo pipefail
PKGS=(chromium fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libpangocairo-1.0-0
      libharfbuzz0b libharfbuzz-subset0 libcairo2 libgdk-pixbuf-2.0-0 libffi8 shared-mime-info
      poppler-utils)
missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
        echo "ci-system-deps: missing ${missing[*]} and not root (no sudo): skipping" >&2; exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# names differ between releases (libgdk-pixbuf-2.0-0 vs libgdk-pixbuf2.0-0, libffi7/8):
# install the ones apt knows, one call
known=()
for p in "${missing[@]}"; do
    if apt-cache show "$p" >/dev/null 2>&1; then known+=("$p"); else echo "ci-system-deps: no package $p here, skipped" >&2; fi
done
if [ "${#known[@]}" -gt 0 ]; then
    $SUDO apt-get install -y -qq --no-install-recommends "${known[@]}" >/dev/null
fi
