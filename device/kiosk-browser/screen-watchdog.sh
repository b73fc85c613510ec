#!/bin/sh
# Restarts the kiosk browser when its page has hung: the page sends a heartbeat
# over /screen/ws every 5 s from its own timer; when it falls silent for
# supervision.screenHeartbeatS (default 30) the kiosk raises the `screen`
# fault ("no heartbeat from the screen page ..."), visible on /health. Run by
# screen-watchdog.timer; a browser that is merely slow to start is left alone
# (no fault until the page has sent a first heartbeat).
set -eu
HEALTH="${HELPPOINT_HEALTH_URL:-http://127.0.0.1:8101/health}"
if curl -fsS --max-time 5 "$HEALTH" 2>/dev/null | grep -q 'no heartbeat from the screen page'; then
  logger -t helppoint-screen-watchdog "screen page hung (screen fault): restarting kiosk-browser"
  systemctl restart kiosk-browser.service
fi
