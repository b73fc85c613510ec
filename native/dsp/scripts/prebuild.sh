#!/usr/bin/env bash
# Builds the prebuilt binaries a binary host serves (the hub, or a release):
# linux-x64 natively and linux-arm64 with Debian's cross toolchain and the
# arm64 libspeexdsp (multiarch). The tarballs land in prebuilt/v<version>/,
# laid out as node-pre-gyp downloads them: copy that folder under the host's
# base URL (HELPPOINT_DSP_BINARY_HOST). (Not build/stage: each arch's
# `node-pre-gyp rebuild` cleans build/, which took the tarball of the arch
# built before it.)
#   bash native/dsp/scripts/prebuild.sh            both
#   bash native/dsp/scripts/prebuild.sh x64        one
# Needs root (or sudo) once, to install the cross toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(cd ../.. && pwd)"
NPG="$ROOT/node_modules/@mapbox/node-pre-gyp/bin/node-pre-gyp"
[ -f "$NPG" ] || { echo "run npm install in the repository first (node-pre-gyp missing)" >&2; exit 1; }
export npm_config_nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(command -v node)")")}"
archs=("${@:-x64 arm64}")
read -r -a archs <<< "${archs[*]}"

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
OUT=prebuilt
mkdir -p "$OUT"
keep() { cp -a build/stage/. "$OUT/"; }
for a in "${archs[@]}"; do
  case "$a" in
    x64)
      node "$NPG" rebuild --target_arch=x64
      node "$NPG" package --target_arch=x64
      keep
      ;;
    arm64)
      if ! dpkg-query -W -f='${Status}' libspeexdsp-dev:arm64 2>/dev/null | grep -q "install ok installed" || ! command -v aarch64-linux-gnu-g++ >/dev/null; then
        echo "prebuild: installing the arm64 cross toolchain and libspeexdsp-dev:arm64"
        dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libspeexdsp-dev:arm64 >/dev/null
      fi
      CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
        LDFLAGS="-L/usr/lib/aarch64-linux-gnu" \
        node "$NPG" rebuild --target_arch=arm64
      node "$NPG" package --target_arch=arm64
      keep
      ;;
    *) echo "unknown arch $a (x64, arm64)" >&2; exit 2 ;;
  esac
done
ls -l "$OUT"/*/
