#!/usr/bin/env bash
# npm run bench            every benchmark
# npm run bench -- NAME    one of them (see bench/*.bench.ts)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
# The run's scratch folder goes when the run ends (a folder given in HP_TEST_TMP is left alone).
if [ -z "${HP_TEST_TMP:-}" ]; then
  HP_TEST_TMP="$(mktemp -d -t hp-bench-XXXXXX)"
  trap 'rm -rf "$HP_TEST_TMP"' EXIT
fi
export HP_TEST_TMP
export XDG_CONFIG_HOME="$HP_TEST_TMP/xdg"
mkdir -p "$XDG_CONFIG_HOME/alsa"
cat > "$XDG_CONFIG_HOME/alsa/asoundrc" <<ALSA
pcm.!default { type file; slave.pcm "null"; file "$HP_TEST_TMP/alsa-capture.raw"; format "raw" }
ALSA
node --import tsx bench/run.ts "$@"
