#!/usr/bin/env bash
# Installs what is needed, then starts the example site: hub, six simulated
# kiosks and a desk. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/helppoint.js demo "$@"
