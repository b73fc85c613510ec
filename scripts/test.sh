#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set-up, then mocha against real
# peers (sipp, Kamailio, baresip, Chromium) started by the tests themselves.
# Extra arguments go to mocha (e.g. a single file).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# Audio: no sound card here. Point ALSA at a file-capture device of the tests'
# own (see test/helpers/alsa.ts), so loading `speaker` cannot abort a process.
# The run's scratch folder (data folders, logs, the ALSA capture file: about
# 1.5 GB for the whole suite) is removed when the run passes and kept, with
# its path printed, when it fails. A folder given in HP_TEST_TMP is left alone.
if [ -z "${HP_TEST_TMP:-}" ]; then
  HP_TEST_TMP="$(mktemp -d -t hp-test-XXXXXX)"
  trap 'rc=$?; if [ "$rc" -eq 0 ]; then rm -rf "$HP_TEST_TMP"; else echo "test scratch files kept in $HP_TEST_TMP" >&2; fi; exit "$rc"' EXIT
fi
export HP_TEST_TMP
export XDG_CONFIG_HOME="$HP_TEST_TMP/xdg"
mkdir -p "$XDG_CONFIG_HOME/alsa" test/artifacts
cat > "$XDG_CONFIG_HOME/alsa/asoundrc" <<ALSA
pcm.!default { type file; slave.pcm "null"; file "$HP_TEST_TMP/alsa-capture.raw"; format "raw" }
ALSA

# No arguments: the whole suite, in a few mocha processes at once
# (scripts/test-parallel.mjs; HP_TEST_JOBS=1 runs it in one). Arguments: one
# mocha run of those files.
if [ $# -eq 0 ]; then node scripts/test-parallel.mjs; exit; fi

out="$HP_TEST_TMP/mocha.out"
set +e
npx mocha --reporter spec "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
count() { grep -Eo "^ +[0-9]+ $1" "$out" | grep -Eo '[0-9]+' | tail -1 || true; }
passed=$(count passing); passed=${passed:-0}
failed=$(count failing); failed=${failed:-0}
skipped=$(count pending); skipped=${skipped:-0}
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$rc" -eq 0 ] && [ "$passed" -eq 0 ]; then echo "no test ran" >&2; exit 1; fi
exit "$rc"
