// Shared set-up for the PA console tests: a hub (in this process, or a real
// process), light kiosks that speak the real protocol over real WebSockets
// (they answer commands and report PA events like a kiosk would), and the
// console's live feed read as server-sent events.
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import pino from 'pino';
import { loadHubConfig, readMerged } from '../../src/config/load.js';
import { Hub } from '../../src/hub/app.js';
import type { HubConfig } from '../../src/config/schema/hub.js';
import { start, type Managed } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { CLI, EXAMPLE, REPO } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';

export const token = (id: string) => `demo-token-${id}-change-me`;
export const ZONE_A = ['conc-north', 'conc-south', 'conc-tickets'];
export const ZONE_B = ['plat-1', 'plat-2', 'plat-3'];

/** The example hub in this process, on a fresh database, with config changes. */
export async function startHub(change: (c: HubConfig) => void = () => undefined): Promise<{ hub: Hub; base: string }> {
  const { config, dir } = loadHubConfig(path.join(EXAMPLE, 'hub.json'));
  config.dataDir = tmpDir('hp-hub-');
  change(config);
  const hub = new Hub({ config, configDir: dir, port: 0, logDestination: pino.destination('/dev/null') });
  await hub.start();
  return { hub, base: `http://127.0.0.1:${hub.port}` };
}

/** The example hub as a real process, its config merged with `overrides` (hub.json keys). */
export async function startHubProcess(overrides: Record<string, unknown> = {}): Promise<{ proc: Managed; base: string; port: number; dir: string }> {
  const m = readMerged(path.join(EXAMPLE, 'hub.json'));
  if (!m.ok) throw new Error('example hub config');
  const port = await freePort();
  const dir = tmpDir('hp-hub-');
  const file = path.join(dir, 'hub.json');
  const base = m.value as Record<string, unknown>;
  // The kiosks' config files are relative to the example folder.
  const kiosks = (base.kiosks as { config?: string }[]).map((k) => ({ ...k, ...(k.config ? { config: path.join(EXAMPLE, k.config) } : {}) }));
  writeFileSync(file, JSON.stringify({ ...base, kiosks, $schema: 'hub.schema.json', listen: { host: '127.0.0.1', port }, dataDir: path.join(dir, 'data'), ...overrides }));
  const proc = start('hub', process.execPath, ['--import', 'tsx', CLI, 'hub', '--config', file], { cwd: REPO });
  await proc.waitFor(/"msg":"ready"/, 90_000);
  return { proc, base: `http://127.0.0.1:${port}`, port, dir };
}

export interface LightKiosk {
  id: string;
  ws: WebSocket;
  commands: { id: string; command: string; args: any }[];
  /** sends recorded events like a kiosk's outbox */
  event(type: string, data: unknown): void;
  close(): void;
}

export interface LightOptions {
  /** answer pa.play with pa.started then pa.ended (done) after this many ms; undefined: only the result */
  playMs?: number;
  /** refuse commands with this error */
  refuse?: string;
}

/** A kiosk that speaks the protocol and plays nothing: enough for receipts and incidents. */
export function lightKiosk(base: string, id: string, o: LightOptions = {}): Promise<LightKiosk> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/kiosk`, { headers: { authorization: `Bearer ${token(id)}` } });
  let seq = 0;
  const boot = Math.floor(Math.random() * 1e6);
  const playing = new Map<string, NodeJS.Timeout>();
  const k: LightKiosk = {
    id,
    ws,
    commands: [],
    event(type, data) {
      seq++;
      ws.send(JSON.stringify({ type: 'events', batch: [{ id: `${id}:${boot}:${seq}`, seq, at: new Date().toISOString(), type, data }] }));
    },
    close: () => ws.terminate(),
  };
  return new Promise((resolve, reject) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, kiosk: id, firmware: 'light', configVersion: 0, capabilities: [] })));
    ws.on('error', reject);
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; id?: string; command?: string; args?: any; version?: number };
      if (m.type === 'welcome') {
        // heartbeats, or the hub marks the kiosk offline after offlineAfterS
        const beat = setInterval(() => ws.readyState === 1 && ws.send(JSON.stringify({ type: 'heartbeat', at: new Date().toISOString(), faults: [], outbox: 0 })), 2000);
        ws.on('close', () => clearInterval(beat));
        resolve(k);
      }
      else if (m.type === 'config') ws.send(JSON.stringify({ type: 'config-ack', version: m.version }));
      else if (m.type === 'command') {
        k.commands.push({ id: m.id!, command: m.command!, args: m.args });
        if (o.refuse) return ws.send(JSON.stringify({ type: 'command-result', id: m.id, ok: false, error: o.refuse }));
        ws.send(JSON.stringify({ type: 'command-result', id: m.id, ok: true }));
        if (m.command === 'pa.play' && o.playMs !== undefined) {
          const pid = m.id!;
          k.event('pa.started', { id: pid, channel: m.args.channel, text: m.args.text });
          playing.set(pid, setTimeout(() => (playing.delete(pid), k.event('pa.ended', { id: pid, channel: m.args.channel, reason: 'done' })), o.playMs));
        }
        if (m.command === 'pa.stop') {
          const t = playing.get(m.args.id);
          if (t) {
            clearTimeout(t);
            playing.delete(m.args.id);
            k.event('pa.ended', { id: m.args.id, channel: 'announcement', reason: 'stopped' });
          }
        }
      }
    });
  });
}

export interface Feed {
  events: { event: string; data: any }[];
  wait(pred: (e: { event: string; data: any }) => boolean, timeoutMs?: number, what?: string): Promise<{ event: string; data: any }>;
  close(): void;
}

/** The console's live feed (GET /api/pa/stream), parsed. */
export async function feed(base: string, cookie: string): Promise<Feed> {
  const ac = new AbortController();
  const res = await fetch(base + '/api/pa/stream', { headers: { cookie, accept: 'text/event-stream' }, signal: ac.signal });
  if (!res.ok || !res.body) throw new Error(`stream: ${res.status}`);
  const events: Feed['events'] = [];
  const waiters = new Set<() => void>();
  void (async () => {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += dec.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data) {
            events.push({ event: ev, data: JSON.parse(data) });
            for (const w of waiters) w();
          }
        }
      }
    } catch {
      /* aborted */
    }
  })();
  return {
    events,
    wait: (pred, timeoutMs = 10_000, what = 'event') =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(pred);
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(events.slice(-5))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () => ac.abort(),
  };
}

/** A real kiosk process (like startKioskProcess, with room for a busy machine: several start at once here). */
export async function startKiosk(file: string, env: NodeJS.ProcessEnv = {}): Promise<{ proc: Managed; url: string; stop(): Promise<void> }> {
  const proc = start('kiosk', process.execPath, ['--import', 'tsx', CLI, 'kiosk', '--config', file], { cwd: REPO, env: { ...process.env, ...env } });
  const line = await proc.waitFor(/"msg":"ready"/, 90_000);
  return { proc, url: (JSON.parse(line) as { local: string }).local, stop: () => proc.stop() };
}
