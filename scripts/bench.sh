#!/usr/bin/env bash
# npm run bench            every benchmark
# npm run bench -- NAME    one of them (see bench/*.bench.ts)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
export HP_TEST_TMP="${HP_TEST_TMP:-$(mktemp -d -t hp-bench-XXXXXX)}"
export XDG_CONFIG_HOME="$HP_TEST_TMP/xdg"
mkdir -p "$XDG_CONFIG_HOME/alsa"
cat > "$XDG_CONFIG_HOME/alsa/asoundrc" <<ALSA
pcm.!default { type file; slave.pcm "null"; file "$HP_TEST_TMP/alsa-capture.raw"; format "raw" }
ALSA
exec node --import tsx bench/run.ts "$@"
