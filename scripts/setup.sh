#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine: Debian packages (Chromium for
# the browser tests and chart export, Noto CJK fonts so Chinese never renders as boxes), a venv
# with the pinned Python packages. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
command -v fc-list >/dev/null || need+=(fontconfig)
if [ ${#need[@]} -gt 0 ]; then
  echo "[setup] apt-get install ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] pip install -r requirements.txt"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt -c constraints.txt
  echo "$want" > "$stamp"
fi
