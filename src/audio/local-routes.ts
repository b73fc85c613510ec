// PA on the kiosk's local interface (127.0.0.1 only): status, and play/stop
// for maintenance and tests. Commands go through the same bus events as the
// hub's, after the same validation. Play and stop act: the local server opens
// them only with the sim driver or to a caller with the local token.
import type { LocalServer } from '../kiosk/local-server.js';
import { sendJson } from '../kiosk/local-server.js';
import type { Bus } from '../core/bus.js';
import type { AudioEngine } from './engine.js';
import { checkPaPlay } from './pa-play.js';

export function addPaRoutes(local: LocalServer, bus: Bus, engine: AudioEngine): void {
  local.route('GET', '/pa', (_req, res) => sendJson(res, 200, engine.status()));
  local.route('POST', '/pa/play', (_req, res, body) => {
    const c = checkPaPlay(body);
    if (!c.ok) return sendJson(res, 400, { error: c.error });
    bus.emit('pa.play', c.play);
    sendJson(res, 202, { id: c.play.id });
  });
  local.route('POST', '/pa/stop', (_req, res, body) => {
    const id = (body as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') return sendJson(res, 400, { error: 'give {"id": "..."}' });
    sendJson(res, engine.pa.stop(id) ? 200 : 404, { id });
  });
}
