// Light kiosks that also report the outcome of their health window the way a
// real kiosk does (recorded events config.healthy / config.rollback after the
// ack), for rollout tests and the rollout benchmark without kiosk processes.
import { lightKiosk, type LightKiosk } from '../helpers/light-kiosk.js';

export type Verdict = 'healthy' | 'rollback' | 'silent';

export interface HealthKiosk extends LightKiosk {
  /** what the next configs' health windows end with */
  verdict: Verdict;
  windowMs: number;
  /** config versions received, in order, with their documents */
  configs: { version: number; document: Record<string, unknown> }[];
  /** the version it runs (acked; back to the previous one after a rollback) */
  running: number;
  fault(code: string | null): void;
}

export function healthKiosk(url: string, id: string, token: string, opts: { windowMs?: number; heartbeatMs?: number } = {}): HealthKiosk {
  const k = lightKiosk(url, id, token, { heartbeatMs: opts.heartbeatMs ?? 1000 }) as HealthKiosk;
  k.verdict = 'healthy';
  k.windowMs = opts.windowMs ?? 300;
  k.configs = [];
  k.running = 0;
  let seq = 0;
  const boot = Date.now().toString(36);
  let faults: { code: string; detail: string }[] = [];
  const record = (type: string, data: unknown) => {
    seq++;
    k.send({ type: 'events', batch: [{ id: `${id}:${boot}:${seq}`, seq, at: new Date().toISOString(), type, data }] });
  };
  k.fault = (code) => {
    faults = code ? [{ code, detail: `${code} in a test` }] : [];
    k.send({ type: 'heartbeat', at: new Date().toISOString(), faults, outbox: 0 });
  };
  k.ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as { type: string; version: number; document: Record<string, unknown> };
    if (m.type !== 'config') return;
    k.configs.push({ version: m.version, document: m.document });
    const before = k.running;
    k.running = m.version;
    const verdict = k.verdict;
    if (verdict === 'silent') return;
    setTimeout(() => {
      if (verdict === 'healthy') record('config.healthy', { version: m.version, windowS: k.windowMs / 1000 });
      else {
        k.running = before;
        record('config.rollback', { version: m.version, to: before, reason: 'SIP not registered at the end of the health window (test)', at: new Date().toISOString() });
      }
    }, k.windowMs);
  });
  return k;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Falsy = false | undefined | null | 0 | '';
export async function until<T>(fn: () => T | Falsy | Promise<T | Falsy>, timeoutMs: number, what: string, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
