// A SIP server refused over TLS becomes the event `sip.tls` and a log line.
// Registration retries every few seconds, so the same refusal of the same
// server is said again at most once a minute (in between, at debug level);
// a new reason is said at once. The registration fault follows on its own
// (registration-fault.ts), naming the last refusal.
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { Address } from './transports/routing.js';

const REPEAT_MS = 60_000;

export function tlsRefusals(bus: Bus, log: Logger, now = () => Date.now()): (peer: Address, reason: string, code: string | undefined) => void {
  const said = new Map<string, number>();
  return (peer, reason, code) => {
    const host = peer.host.includes(':') ? `[${peer.host}]` : peer.host;
    const e = { peer: `${host}:${peer.port}`, refused: true as const, reason, ...(code ? { code } : {}) };
    const key = `${e.peer} ${reason}`;
    const last = said.get(key);
    if (last !== undefined && now() - last < REPEAT_MS) {
      log.debug(e, 'SIP server refused over TLS (again)');
      return;
    }
    if (said.size > 100) said.clear();
    said.set(key, now());
    log.warn(e, 'SIP server refused over TLS');
    bus.emit('sip.tls', e);
  };
}
