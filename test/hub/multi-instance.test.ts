// Several hub instances on one PostgreSQL: 2,000 light kiosks spread over two
// hub processes. A PA command to a zone through instance A reaches the kiosks
// connected to B; a config push to the zone is acknowledged by all even when
// B is SIGKILLed in the middle of it (its kiosks reconnect to A within their
// backoff and A completes the push); no event row is duplicated or lost.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import pg from 'pg';
import { start, type Managed } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { readMerged } from '../../src/config/load.js';
import { CLI, EXAMPLE, REPO } from '../helpers/processes.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';
import { consoleLogin } from '../helpers/console.js';
import { engines, sharedPostgres } from './harness.js';

const N = Number(process.env.HP_MULTI_KIOSKS ?? 2000);
const token = (i: number) => `multi-token-${i}-0123456789abcdef`;

/** A light kiosk with an outbox: it roams between hub URLs with jittered backoff and resends unacknowledged events. */
class Roamer {
  ws?: WebSocket;
  online = false;
  configVersion = 0;
  ackDelayMs = 0;
  outbox: { id: string; seq: number; at: string; type: string; data: unknown }[] = [];
  private seq = 0;
  private inFlight = false;
  private attempt = 0;
  stopped = false;
  welcomes = 0;
  lastWelcomeAt = 0;
  hubIndex: number;

  constructor(
    readonly id: string,
    readonly i: number,
    private readonly urls: () => string[],
    start: number,
  ) {
    this.hubIndex = start;
  }

  connect(): void {
    const url = this.urls()[this.hubIndex % this.urls().length]!;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token(this.i)}` } });
    this.ws = ws;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, kiosk: this.id, firmware: 'multi', configVersion: this.configVersion, capabilities: [] })));
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; version?: number; id?: string };
      if (m.type === 'welcome') {
        this.attempt = 0;
        this.online = true;
        this.welcomes++;
        this.lastWelcomeAt = Date.now();
        this.flush();
      } else if (m.type === 'config') {
        const v = m.version!;
        setTimeout(() => {
          if (ws.readyState !== WebSocket.OPEN) return; // lost with the socket: the hub resends at the next hello
          this.configVersion = Math.max(this.configVersion, v);
          ws.send(JSON.stringify({ type: 'config-ack', version: v }));
        }, this.ackDelayMs * Math.random());
      } else if (m.type === 'command') ws.send(JSON.stringify({ type: 'command-result', id: m.id, ok: true }));
      else if (m.type === 'events-ack') {
        const acked = new Set((m as unknown as { ids: string[] }).ids);
        this.outbox = this.outbox.filter((e) => !acked.has(e.id));
        this.inFlight = false;
        this.flush();
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.online = false;
      this.inFlight = false;
      if (this.stopped) return;
      // Next instance, jittered exponential backoff as the real hub link (but capped at 2 s for the test's pace).
      this.hubIndex++;
      const base = Math.min(2000, 250 * 2 ** this.attempt++);
      setTimeout(() => this.connect(), base / 2 + Math.random() * (base / 2));
    });
  }

  record(n: number): void {
    for (let k = 0; k < n; k++) this.outbox.push({ id: `${this.id}:1:${++this.seq}`, seq: this.seq, at: new Date().toISOString(), type: 'button.press', data: { n: this.seq } });
    this.flush();
  }

  get recorded(): number {
    return this.seq;
  }

  private flush(): void {
    if (!this.online || this.inFlight || this.outbox.length === 0) return;
    this.inFlight = true;
    this.ws!.send(JSON.stringify({ type: 'events', batch: this.outbox.slice(0, 200) }));
  }
}

describe('several hub instances on one PostgreSQL', function () {
  this.timeout(600_000);
  if (!engines().some((e) => e.name === 'postgres')) return void it.skip('PostgreSQL is not installed');

  let a: Managed;
  let b: Managed;
  const roamers: Roamer[] = [];
  after(async () => {
    for (const r of roamers) {
      r.stopped = true;
      r.ws?.terminate();
    }
    await a?.stop();
    await b?.stop();
  });

  it(`${N} light kiosks over two instances: PA through A reaches B's kiosks, a zone push completes after SIGKILL of B, no event lost or duplicated`, async () => {
    const url = await (await sharedPostgres()).database(`multi_${process.pid}`);
    const m = readMerged(path.join(EXAMPLE, 'hub.json'));
    assert.ok(m.ok);
    const dir = tmpDir('hp-multi-');
    const kiosks = Array.from({ length: N }, (_, i) => ({
      id: `m${i}`,
      zone: 'multi',
      location: { text: { en: `multi ${i}` }, x: 0, y: 0 },
      tokenSha256: createHash('sha256').update(token(i)).digest('hex'),
      config: path.join(EXAMPLE, 'kiosks/conc-north.json'),
    }));
    const site = (m.value as { site: { zones: { id: string }[] } }).site;
    const withZone = { ...site, zones: [...site.zones, { ...site.zones[0]!, id: 'multi' }] };
    const ports = [await freePort(), await freePort()];
    const hubProc = (name: string, port: number) => {
      const file = path.join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify({ ...(m.value as object), site: withZone, $schema: 'hub.schema.json', kiosks, listen: { host: '127.0.0.1', port }, dataDir: path.join(dir, name), log: { level: 'warn' } }));
      return start(`hub-${name}`, process.execPath, ['--import', 'tsx', CLI, 'hub', '--config', file, '--database', url], { cwd: REPO });
    };
    const ready = async (p: Managed, port: number) => {
      await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 90_000, `${p.name} ready`).catch((err: Error) => {
        throw new Error(`${err.message}\n${p.output().slice(-2000)}`);
      });
    };
    a = hubProc('a', ports[0]!);
    await ready(a, ports[0]!);
    b = hubProc('b', ports[1]!);
    await ready(b, ports[1]!);
    let alive = ports.map((p) => `ws://127.0.0.1:${p}/kiosk`);
    const urls = () => alive;

    // Half the kiosks on each instance, connecting in waves.
    for (let i = 0; i < N; i++) roamers.push(new Roamer(`m${i}`, i, urls, i % 2));
    for (let i = 0; i < N; i += 200) {
      for (const r of roamers.slice(i, i + 200)) r.connect();
      await until(() => roamers.slice(i, i + 200).every((r) => r.online), 60_000, 'a wave of kiosks welcomed');
    }
    for (const r of roamers) r.record(5);
    await until(() => roamers.every((r) => r.outbox.length === 0), 60_000, 'first events acknowledged');

    const base = `http://127.0.0.1:${ports[0]}`;
    const admin = await consoleLogin(base, 'admin', 'admin-demo');
    await until(async () => (await admin.json<{ online: boolean }[]>('/api/fleet?zone=multi')).filter((k) => k.online).length === N, 30_000, 'all online in the fleet view of A');

    // PA through A: every kiosk answers, those on B included.
    const pa = (await (await admin.post('/api/commands', { zone: 'multi', command: 'pa.play', args: { channel: 'announcement', message: 'drill' } })).json()) as { id: string; sent: string[]; offline: string[] };
    assert.equal(pa.sent.length, N, `sent ${pa.sent.length}, offline ${pa.offline.length}`);
    const results = await until(
      async () => {
        const c = await admin.json<{ results: Record<string, { ok: boolean } | null> }>(`/api/commands/${pa.id}`);
        return Object.values(c.results).every((r) => r?.ok) ? c.results : undefined;
      },
      60_000,
      'every PA result',
    );
    assert.equal(Object.keys(results).length, N);

    // A config push to the zone through A; acks come slowly, and B is killed in the middle.
    for (const r of roamers) r.ackDelayMs = 3000;
    const onB = roamers.filter((r) => r.hubIndex % 2 === 1);
    assert.ok(onB.length >= N / 2 - 1);
    const push = await admin.post('/api/config', { zone: 'multi', override: { sip: { callTimeLimitS: 700 } } });
    assert.equal(push.status, 202);
    for (const r of roamers) r.record(5); // events in flight when B dies
    await sleep(500);
    const midway = await admin.json<{ acked: number }>('/api/config/status?zone=multi');
    assert.ok(midway.acked < N, 'the push was still in progress when B was killed');
    alive = [alive[0]!];
    const killedAt = Date.now();
    b.child.kill('SIGKILL');
    await b.exited;

    await until(() => onB.every((r) => r.online && r.lastWelcomeAt > killedAt), 60_000, "B's kiosks reconnected to A");
    const reconnectMs = Math.max(...onB.map((r) => r.lastWelcomeAt - killedAt));
    await until(async () => (await admin.json<{ acked: number }>('/api/config/status?zone=multi')).acked === N, 60_000, 'every kiosk acknowledged the push').catch(async (err: Error) => {
      // Say which kind of failure it was: kiosks never sent the config (a lost push) or acks not stored.
      const status = await admin.json<{ acked: number; pending: number }>('/api/config/status?zone=multi').catch(() => undefined);
      const behind = roamers.filter((r) => r.configVersion === 0);
      throw new Error(`${err.message}: status ${JSON.stringify(status)}, ${behind.length} kiosks never applied it (${behind.slice(0, 5).map((r) => `${r.id} online=${r.online}`).join(', ')})\n${a.output().slice(-3000)}`);
    });
    await until(() => roamers.every((r) => r.outbox.length === 0), 60_000, 'every event acknowledged');

    // Every recorded event is in the table exactly once.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const { rows } = await c.query<{ n: number; ids: number }>(`select count(*)::int as n, count(distinct id)::int as ids from events where kiosk_id like 'm%'`);
      const recorded = roamers.reduce((s, r) => s + r.recorded, 0);
      assert.equal(rows[0]!.n, recorded, 'no event lost or duplicated');
      assert.equal(rows[0]!.ids, recorded);
    } finally {
      await c.end();
    }
    console.log(`      (B's ${onB.length} kiosks back on A within ${reconnectMs} ms of the SIGKILL)`);
  });
});
