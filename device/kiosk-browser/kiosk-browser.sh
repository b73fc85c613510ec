#!/bin/sh
# Shows the help-point screen in Chromium kiosk mode. The kiosk process serves
# the page on 127.0.0.1; the browser is only a viewer, so systemd simply
# restarts it when it dies (see kiosk-browser.service). Calls and PA never
# depend on it.
set -eu
URL="${HELPPOINT_SCREEN_URL:-http://127.0.0.1:8101/}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
PROFILE="${XDG_RUNTIME_DIR:-/tmp}/helppoint-browser"   # throwaway profile: no stale state after a crash
rm -rf "$PROFILE"
# Wait for the kiosk's local server so the first paint is the screen, not an error page.
i=0
while ! curl -fsS -o /dev/null "$URL" 2>/dev/null; do
  i=$((i + 1)); [ "$i" -gt 120 ] && break; sleep 1
done
exec "$CHROMIUM" --kiosk --incognito --user-data-dir="$PROFILE" \
  --noerrdialogs --disable-infobars --disable-session-crashed-bubble --disable-translate \
  --disable-background-networking --disable-component-update --disable-sync --no-first-run \
  --overscroll-history-navigation=0 --disable-pinch --check-for-update-interval=31536000 \
  --autoplay-policy=no-user-gesture-required \
  "$URL"
