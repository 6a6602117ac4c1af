#!/usr/bin/env bash
# Make sure Debian's Chromium (and poppler-utils for PDF checks) are installed for the browser tests; install it with apt when possible.
# Fails loudly (exit 1) when it is missing and cannot be installed: browser tests never skip quietly.
set -euo pipefail
if { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; } && command -v pdftoppm >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "Installing Debian's chromium for the browser tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core poppler-utils >/dev/null
  exit 0
fi
echo "ERROR: Debian's chromium is required for the browser tests and cannot be installed here." >&2
echo "       Install it (sudo apt-get install chromium) or set CHROMIUM=/path/to/chromium." >&2
[ -n "${CHROMIUM:-}" ] && [ -x "${CHROMIUM}" ] && exit 0
exit 1
