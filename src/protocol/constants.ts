// The protocol's numbers, apart from the schemas (messages.ts) so that a
// kiosk reads them without loading TypeBox.

/**
 * 2: config-ack says how each changed section took effect (live, deferred,
 * restart) and the health window; config-nack carries a code. A kiosk sends
 * these fields only to a hub whose welcome says protocol >= 2.
 * 3: heartbeat may carry uptimeS (sent only to a hub whose welcome says >= 3).
 * 4: clock samples: the kiosk sends `time`, the hub answers with its
 * receive and send times (sent only to a hub whose welcome says >= 4).
 * 5: heartbeat may carry bootId, the board's boot id (sent only to a hub
 * whose welcome says >= 5): how the hub sees a kiosk.reboot done.
 */
export const PROTOCOL_VERSION = 5;
export const MAX_FRAME_BYTES = 256 * 1024;
/** config versions are 32-bit integers (the hub stores them so) */
export const MAX_VERSION = 2 ** 31 - 1;
/** Recorded kiosk events per `events` frame at most. */
export const MAX_EVENTS_PER_BATCH = 200;
