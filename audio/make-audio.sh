#!/usr/bin/env bash
# Makes the bundled PA audio from audio/messages.json: one WAV per message and
# language (espeak-ng, then sox to 16 kHz mono 16-bit, normalised, with a short
# lead-in of silence) and the pre-announcement chime (sox synth).
# Idempotent: does nothing while the outputs match the inputs (stamp file).
# The WAVs are committed, so a machine without espeak-ng/sox still has them.
set -euo pipefail
cd "$(dirname "$0")"

stamp=.make-audio.stamp
want=$(cat messages.json make-audio.sh | sha256sum | cut -d' ' -f1)
count=$( (ls messages/*.wav chimes/*.wav 2>/dev/null || true) | wc -l)
expected=$(( $(node -e 'console.log(Object.keys(require("./messages.json")).length * 2 + 1)') ))
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ "$count" -ge "$expected" ]; then
  echo "audio: bundled messages up to date"
  exit 0
fi
for tool in espeak-ng sox; do
  if ! command -v "$tool" >/dev/null; then
    if [ "$count" -ge "$expected" ]; then echo "audio: $tool missing, keeping the committed WAVs"; exit 0; fi
    echo "audio: $tool is needed to make the bundled messages (scripts/install-system.sh installs it)" >&2
    exit 1
  fi
done

mkdir -p messages chimes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
RATE=16000

# Chime: two falling tones ("ding-dong"), faded so it does not click.
sox -n -r $RATE -c 1 -b 16 "$tmp/d1.wav" synth 0.35 sine 784 fade q 0.01 0.35 0.2 vol 0.5
sox -n -r $RATE -c 1 -b 16 "$tmp/d2.wav" synth 0.6 sine 622 fade q 0.01 0.6 0.45 vol 0.5
sox -n -r $RATE -c 1 -b 16 "$tmp/gap.wav" trim 0 0.25
sox "$tmp/d1.wav" "$tmp/d2.wav" "$tmp/gap.wav" chimes/chime.wav

voice() { case "$1" in zh-CN) echo cmn ;; en) echo en-gb ;; esac; }
node -e '
  const m = require("./messages.json");
  for (const [id, t] of Object.entries(m)) for (const lang of ["zh-CN", "en"]) console.log([id, lang, t[lang]].join("\t"));
' | while IFS=$'\t' read -r id lang text; do
  espeak-ng -v "$(voice "$lang")" -s 150 -w "$tmp/raw.wav" "$text"
  # lead-in and tail of silence; -3 dB peak so the mixer has headroom
  sox "$tmp/raw.wav" -r $RATE -c 1 -b 16 "messages/$id.$lang.wav" norm -3 pad 0.05 0.3
done
echo "$want" > "$stamp"
echo "audio: made $(ls messages/*.wav | wc -l) messages and the chime"
