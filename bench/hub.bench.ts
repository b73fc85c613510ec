// hub: one hub process, 1,000 and 5,000 light kiosk clients (real WebSockets,
// the real protocol: hello, heartbeats, acks) in this process.
//   connect_storm_N_ms   all N connect at once -> all welcomed
//   config_fanout_N_ms   zone config change saved -> every kiosk's ack at the hub
//   pa_fanout_N_ms       PA command to the zone -> every kiosk's result at the hub
//   rss_per_conn_kb      hub RSS growth per connected kiosk
//   offline_detect_ms    a kiosk goes silent -> the hub shows it offline
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { start } from '../src/testbed/proc.js';
import { freePort } from '../src/testbed/ports.js';
import { readMerged } from '../src/config/load.js';
import { EXAMPLE, REPO } from '../test/helpers/processes.js';
import { rssMb } from './stats.js';
import { consoleLogin } from '../test/helpers/console.js';
import type { Report } from './run.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Light {
  ws: WebSocket;
  welcomed: Promise<void>;
  silent: boolean;
}

function lightKiosk(url: string, id: string, token: string): Light {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const k: Light = { ws, silent: false, welcomed: Promise.resolve() };
  let beat: NodeJS.Timeout | undefined;
  k.welcomed = new Promise((resolve, reject) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, kiosk: id, firmware: 'bench', configVersion: 0, capabilities: [] })));
    ws.on('error', reject);
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; version?: number; id?: string };
      if (m.type === 'welcome') {
        resolve();
        beat = setInterval(() => !k.silent && ws.send(JSON.stringify({ type: 'heartbeat', at: new Date().toISOString(), faults: [], outbox: 0 })), 5000);
      } else if (m.type === 'config') ws.send(JSON.stringify({ type: 'config-ack', version: m.version }));
      else if (m.type === 'command') ws.send(JSON.stringify({ type: 'command-result', id: m.id, ok: true }));
    });
    ws.on('close', () => clearInterval(beat));
  });
  return k;
}

async function run1(n: number, report: Report, offline: boolean): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-hubbench-'));
  const m = readMerged(path.join(EXAMPLE, 'hub.json'));
  if (!m.ok) throw new Error('example hub config');
  const base = m.value as { site: { zones: { id: string }[] }; users: unknown[] };
  const kioskBase = path.join(EXAMPLE, 'kiosks/conc-north.json');
  const kiosks = Array.from({ length: n }, (_, i) => ({
    id: `k${i}`,
    zone: 'concourse',
    location: { text: { en: `bench ${i}` }, x: 0, y: 0 },
    tokenSha256: createHash('sha256').update(`bench-token-${i}-0123456789`).digest('hex'),
    config: kioskBase,
  }));
  const port = await freePort();
  const file = path.join(dir, 'hub.json');
  writeFileSync(file, JSON.stringify({ ...base, $schema: 'hub.schema.json', kiosks, listen: { host: '127.0.0.1', port }, dataDir: path.join(dir, 'data'), log: { level: 'warn' } }));
  const hub = start('hub', process.execPath, [path.join(REPO, 'dist/src/cli.js'), 'hub', '--config', file], { cwd: dir });
  await sleep(300);
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok) break;
    await sleep(100);
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  const admin = await consoleLogin(baseUrl, 'admin', 'admin-demo');
  const cookie = admin.cookie;
  await sleep(500);
  const rss0 = rssMb(hub.pid);

  const t0 = performance.now();
  const clients = kiosks.map((k, i) => lightKiosk(`ws://127.0.0.1:${port}/kiosk`, k.id, `bench-token-${i}-0123456789`));
  await Promise.all(clients.map((c) => c.welcomed));
  report(`connect_storm_${n}_ms`, performance.now() - t0, 'ms', `${n} kiosks connect at once, to the last welcome`);
  await sleep(1500);
  report(`rss_per_conn_kb_${n}`, ((rssMb(hub.pid) - rss0) * 1024) / n, 'kB', 'hub RSS growth per connected kiosk');

  const t1 = performance.now();
  const cfg = await admin.post('/api/config', { zone: 'concourse', override: { sip: { callTimeLimitS: 600 } } });
  if (cfg.status !== 202) throw new Error(`config push: ${cfg.status}`);
  for (;;) {
    const s = (await (await fetch(baseUrl + '/api/config/status?zone=concourse', { headers: { cookie } })).json()) as { acked: number };
    if (s.acked === n) break;
    await sleep(10);
  }
  report(`config_fanout_${n}_ms`, performance.now() - t1, 'ms', 'zone change saved -> all acks at the hub (polled every 10 ms)');

  const t2 = performance.now();
  const pa = (await (await admin.post('/api/commands', { zone: 'concourse', command: 'pa.play', args: { channel: 'announcement', message: 'drill' } })).json()) as { id: string };
  for (;;) {
    const c = (await (await fetch(`${baseUrl}/api/commands/${pa.id}`, { headers: { cookie } })).json()) as { results: Record<string, unknown> };
    if (Object.values(c.results).every((r) => r !== null)) break;
    await sleep(10);
  }
  report(`pa_fanout_${n}_ms`, performance.now() - t2, 'ms', 'PA command to the zone -> all results at the hub (polled every 10 ms)');

  if (offline) {
    const victim = clients[0]!;
    victim.silent = true;
    const t3 = performance.now();
    for (;;) {
      const fleet = (await (await fetch(baseUrl + '/api/fleet', { headers: { cookie } })).json()) as { id: string; online: boolean }[];
      if (fleet.find((k) => k.id === 'k0')?.online === false) break;
      await sleep(100);
    }
    // The last heartbeat was up to 5 s before going silent: the figure is from silence to offline.
    report('offline_detect_ms', performance.now() - t3, 'ms', 'heartbeats stop (5 s interval) -> offline in the fleet view (offlineAfterS 10)');
  }
  for (const c of clients) c.ws.terminate();
  await hub.stop();
}

export async function run(report: Report): Promise<void> {
  await run1(1000, report, true);
  await run1(5000, report, false);
}
