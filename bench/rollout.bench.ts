// rollout: the facilities console's staged rollout and live map, on one hub
// process with 1,000 light kiosks (real WebSockets, the real protocol; like
// bench/hub.bench.ts) that acknowledge configs and, like a real kiosk, report
// config.healthy once their health window (1 s here) has passed.
//   rollout_1000_ms  a zone change to 1,000 kiosks through the console API with
//                    a canary stage (1 % = 10 canaries, 1 s health window):
//                    POST -> the last kiosk's ack (sent by the kiosks, measured here)
//   map_update_ms    a kiosk's heartbeat carries a new fault -> its marker changes
//                    colour on an open map page (headless Chromium); median of 15
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { chromium } from 'playwright-core';
import { start } from '../src/testbed/proc.js';
import { freePort } from '../src/testbed/ports.js';
import { readMerged } from '../src/config/load.js';
import { EXAMPLE, REPO } from '../test/helpers/processes.js';
import { consoleLogin } from '../test/helpers/console.js';
import { median } from './stats.js';
import type { Report } from './run.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const N = 1000;
const WINDOW_MS = 1000;

interface Light {
  id: string;
  ws: WebSocket;
  welcomed: Promise<void>;
  /** when it sent the ack of each config version */
  acks: Map<number, number>;
  beat(faults: { code: string; detail: string }[]): void;
}

function lightKiosk(url: string, id: string, token: string): Light {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  let seq = 0;
  const k: Light = {
    id,
    ws,
    acks: new Map(),
    welcomed: Promise.resolve(),
    beat: (faults) => ws.send(JSON.stringify({ type: 'heartbeat', at: new Date().toISOString(), faults, outbox: 0 })),
  };
  let timer: NodeJS.Timeout | undefined;
  k.welcomed = new Promise((resolve, reject) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 2, kiosk: id, firmware: 'bench', configVersion: 0, capabilities: [] })));
    ws.on('error', reject);
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; version: number };
      if (m.type === 'welcome') {
        resolve();
        k.beat([]);
        timer = setInterval(() => k.beat([]), 5000);
      } else if (m.type === 'config') {
        ws.send(JSON.stringify({ type: 'config-ack', version: m.version, live: ['sip'], deferred: [], restart: [], healthWindowS: WINDOW_MS / 1000 }));
        k.acks.set(m.version, performance.now());
        // the kiosk's health window passes: recorded event, as a real kiosk sends it
        setTimeout(() => {
          seq++;
          ws.send(JSON.stringify({ type: 'events', batch: [{ id: `${id}:bench:${seq}`, seq, at: new Date().toISOString(), type: 'config.healthy', data: { version: m.version, windowS: WINDOW_MS / 1000 } }] }));
        }, WINDOW_MS);
      }
    });
    ws.on('close', () => clearInterval(timer));
  });
  return k;
}

export async function run(report: Report): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-rolloutbench-'));
  const m = readMerged(path.join(EXAMPLE, 'hub.json'));
  if (!m.ok) throw new Error('example hub config');
  const base = m.value as { site: { map?: Record<string, unknown> } };
  const kioskBase = path.join(EXAMPLE, 'kiosks/conc-north.json');
  const kiosks = Array.from({ length: N }, (_, i) => ({
    id: `k${i}`,
    zone: 'concourse',
    location: { text: { en: `bench ${i}` }, x: 5 + (i % 40) * 4.5, y: 5 + Math.floor(i / 40) * 4.4 },
    tokenSha256: createHash('sha256').update(`bench-token-${i}-0123456789`).digest('hex'),
    config: kioskBase,
  }));
  const port = await freePort();
  const file = path.join(dir, 'hub.json');
  const site = { ...base.site, map: { ...base.site.map, floorplan: path.join(EXAMPLE, 'floorplan.svg') } };
  writeFileSync(file, JSON.stringify({ ...base, site, $schema: 'hub.schema.json', kiosks, listen: { host: '127.0.0.1', port }, dataDir: path.join(dir, 'data'), log: { level: 'warn' }, offlineAfterS: 30 }));
  const hub = start('hub', process.execPath, [path.join(REPO, 'dist/src/cli.js'), 'hub', '--config', file], { cwd: dir });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if ((await fetch(`${url}/healthz`).catch(() => undefined))?.ok) break;
    await sleep(100);
  }
  const fac = await consoleLogin(url, 'facilities', 'facilities-demo');
  const clients = kiosks.map((k, i) => lightKiosk(`ws://127.0.0.1:${port}/kiosk`, k.id, `bench-token-${i}-0123456789`));
  await Promise.all(clients.map((c) => c.welcomed));
  await sleep(2000); // presence written, the hello storm settled

  try {
    // ---- rollout_1000_ms ---------------------------------------------------------------
    const runs: number[] = [];
    const done: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const res = await fac.post('/api/facilities/rollouts', { scope: 'zone', target: 'concourse', document: { sip: { callTimeLimitS: 600 + r } }, comment: 'bench', canary: { percent: 1 } });
      if (res.status !== 202) throw new Error(`rollout: ${res.status} ${await res.text()}`);
      const ro = (await res.json()) as { id: string; version: number };
      // every kiosk acked its version of this rollout (each kiosk's version differs: count acks after t0)
      for (;;) {
        if (clients.every((c) => [...c.acks.values()].some((t) => t >= t0))) break;
        if (performance.now() - t0 > 120_000) throw new Error('rollout did not reach every kiosk within 120 s');
        await sleep(5);
      }
      runs.push(Math.max(...clients.map((c) => Math.max(...[...c.acks.values()].filter((t) => t >= t0)))) - t0);
      for (;;) {
        const s = (await fac.json<{ state: string; reason: string }>(`/api/facilities/rollouts/${ro.id}`));
        if (s.state === 'done') break;
        if (s.state === 'failed') throw new Error(`rollout failed: ${s.reason}`);
        await sleep(20);
      }
      done.push(performance.now() - t0);
      await sleep(1500);
    }
    report('rollout_1000_ms', median(runs), 'ms', `zone change to ${N} light kiosks, canary stage 1 % (10 kiosks) with a ${WINDOW_MS} ms health window: POST -> the last kiosk's ack; median of 3 (${runs.map((x) => Math.round(x)).join(', ')})`);
    report('rollout_1000_done_ms', median(done), 'ms', 'the same, to the rollout marked done at the hub (every ack stored; polled every 20 ms); median of 3');

    // ---- map_update_ms -----------------------------------------------------------------
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const context = await browser.newContext();
      await context.addCookies([{ name: 'hp_session', value: fac.cookie.split('=')[1]!, url }]);
      const page = await context.newPage();
      await page.goto(`${url}/facilities`);
      await page.waitForSelector('body[data-ready="1"]');
      await page.waitForSelector('#live.on');
      // The page records when a marker's state changes (wall clock, comparable with this process on one machine).
      await page.evaluate(() => {
        const w = window as unknown as { changes: { id: string; state: string; at: number }[] };
        w.changes = [];
        new MutationObserver((list) => {
          for (const m of list) {
            const g = m.target as Element;
            if (m.attributeName === 'data-state' && g.getAttribute('data-kiosk')) w.changes.push({ id: g.getAttribute('data-kiosk')!, state: g.getAttribute('data-state')!, at: Date.now() });
          }
        }).observe(document.getElementById('map')!, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
      });
      const lat: number[] = [];
      for (let i = 0; i < 15; i++) {
        const c = clients[100 + i]!;
        const t0 = Date.now();
        c.beat([{ code: 'audio', detail: 'bench fault' }]);
        const at = await page.waitForFunction(
          ([id]) => (window as unknown as { changes: { id: string; state: string; at: number }[] }).changes.find((x) => x.id === id && x.state === 'fault')?.at,
          [c.id],
          { timeout: 10_000, polling: 20 },
        );
        lat.push(((await at.jsonValue()) as number) - t0);
        c.beat([]);
        await sleep(300);
      }
      report('map_update_ms', median(lat), 'ms', `a heartbeat with a new fault -> the marker's colour changes on an open map page (${N} kiosks on it); median of 15 (min ${Math.min(...lat)}, max ${Math.max(...lat)})`);
    } finally {
      await browser.close();
    }
  } finally {
    for (const c of clients) c.ws.terminate();
    await hub.stop();
  }
}
