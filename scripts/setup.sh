#!/usr/bin/env bash
# Everything a fresh machine needs before the demo or the tests: system
# packages, npm dependencies (only when package-lock.json changed), the build,
# and the bundled audio. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

node -e 'const [maj]=process.versions.node.split(".").map(Number); if (maj < 20) { console.error("Node 20 or newer is needed, found " + process.version); process.exit(1) }'

bash scripts/install-system.sh

stamp=node_modules/.lock-stamp
want=$( (cat package-lock.json; node --version) | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "npm: installing dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
  installed_now=1
else
  echo "npm: dependencies up to date"
fi

# The native addon is installed by npm ci only when the lock changes: when its source changed since it was
# installed here, install it again (prebuilt from the binary host, else built from source; install.js records why not).
dstamp=native/dsp/lib/.source-stamp
dwant=$(cat native/dsp/src/*.cc native/dsp/binding.gyp | sha256sum | cut -d' ' -f1)
# npm ci just now installed it from this very source
if [ "${installed_now:-}" = 1 ]; then mkdir -p native/dsp/lib && echo "$dwant" > "$dstamp"; fi
if [ ! -f "$dstamp" ] || [ "$(cat "$dstamp")" != "$dwant" ]; then
  echo "native: installing helppoint-dsp again (its source changed)"
  rm -rf native/dsp/lib/binding
  node native/dsp/install.js >/dev/null || true
  mkdir -p native/dsp/lib && echo "$dwant" > "$dstamp"
fi

echo "build: compiling TypeScript"
npx tsc -p tsconfig.json
# The JSON-Schema validators compiled ahead of time (src/validators): a kiosk starts without ajv and TypeBox.
node dist/src/validators/gen.js
# The console's browser code: type-checked with DOM types, bundled with esbuild into dist/web.
npx tsc -p src/hub/web/tsconfig.json
node dist/src/hub/web-bundle.js

if [ -x audio/make-audio.sh ] || [ -f audio/make-audio.sh ]; then
  bash audio/make-audio.sh
fi
