#!/usr/bin/env bash
# Installs the system packages the firmware, its demo and its tests need.
# Idempotent: installs only what is missing, so it is cheap to run every time.
set -euo pipefail

PKGS=(
  build-essential python3 libasound2-dev alsa-utils   # native modules (speaker, epoll), ALSA tools
  libspeexdsp-dev                                      # helppoint-dsp: echo canceller, noise suppression, resampler (native/dsp)
  sip-tester kamailio kamailio-websocket-modules baresip-core   # real SIP peers for tests and the demo desk
  rtpengine-daemon                                     # media relay browser (WebRTC) <-> kiosk (RTP), userspace;
                                                       # not the "rtpengine" metapackage: it pulls the kernel module (DKMS)
  kamailio-tls-modules                                 # TLS/WSS of the production SIP server template (device/sip-server), tested
  sox espeak-ng                                        # audio: generate messages, measure test audio
  chromium fonts-wqy-zenhei                            # kiosk screen tests (headless) and CJK glyphs
  firefox-esr pulseaudio                               # the desk page in Firefox (tests): its audio output is a
                                                       # PulseAudio null sink the test starts itself
  postgresql                                           # hub storage: tests start their own server (several hub instances)
  iproute2 git ca-certificates openssl util-linux
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The test bed starts its own Kamailio, rtpengine and PostgreSQL on free ports
# (PostgreSQL: initdb in a temp folder); the packaged services are not needed.
for svc in kamailio rtpengine-daemon postgresql; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then $SUDO systemctl disable --now "$svc" || true; fi
done
echo "system packages: done"
