// Routes that exist only for tests of the process guard and the watchdog,
// and only when the kiosk is started with HELPPOINT_TEST_SEAMS=1 (never in a
// unit file): block the event loop, throw in a timer, leave a rejection unhandled.
//   POST /test/block   {"ms":5000}          busy-waits (the event loop stalls), then answers
//   POST /test/fail    {"how":"timer"}      an exception in a timer callback
//   POST /test/fail    {"how":"rejection"}  a promise rejection nobody handles
import { sendJson, type LocalServer } from './local-server.js';

export function addTestSeams(local: LocalServer, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.HELPPOINT_TEST_SEAMS !== '1') return false;
  local.route('POST', '/test/block', (_req, res, body) => {
    const ms = Math.min(Number((body as { ms?: unknown })?.ms) || 0, 120_000);
    const until = Date.now() + ms;
    while (Date.now() < until) {
      /* the stall under test */
    }
    sendJson(res, 200, { blockedMs: ms });
  });
  local.route('POST', '/test/fail', (_req, res, body) => {
    const how = (body as { how?: unknown })?.how;
    if (how === 'timer') {
      setTimeout(() => {
        throw new Error('injected exception in a timer');
      }, 50);
    } else if (how === 'rejection') {
      setTimeout(() => void Promise.reject(new Error('injected unhandled rejection')), 50);
    } else return sendJson(res, 400, { error: 'how: "timer" or "rejection"' });
    sendJson(res, 202, { failingIn: 50 });
  });
  return true;
}
