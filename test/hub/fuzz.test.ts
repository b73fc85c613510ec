// Strangers cannot take the hub down: 10,000 malformed HTTP requests (bodies,
// headers, sizes, request targets, aborted uploads) and 10,000 malformed
// WebSocket frames (garbage, wrong schema, hostile values, broken framing),
// from a seeded generator (HP_FUZZ_SEED). The hub process never exits, and a
// logged-in console and a connected kiosk keep being served throughout.
import { strict as assert } from 'node:assert';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { start, type Managed } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { readMerged } from '../../src/config/load.js';
import { CLI, EXAMPLE, REPO } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { lightKiosk, type LightKiosk } from '../helpers/light-kiosk.js';

/** encodeURIComponent, which throws on a lone surrogate: then its raw UTF-8 bytes (invalid on purpose). */
const enc = (x: string) => {
  try {
    return encodeURIComponent(x);
  } catch {
    return '%ED%A0%80';
  }
};
const SEED = Number(process.env.HP_FUZZ_SEED ?? 11);
const HTTP_N = Number(process.env.HP_FUZZ_HTTP ?? 10_000);
const WS_N = Number(process.env.HP_FUZZ_WS ?? 10_000);

/** mulberry32: small, seeded, good enough to pick inputs. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { next, int, pick, bytes };
}

const WEIRD = ['', '\u0000', '\u0000abc', '%00', '%', '%zz', '//[', '/..', '/../../etc/passwd', '\uFFFF', '\uD800', '😀'.repeat(50), 'x'.repeat(70_000), '<script>', "'; drop table events; --", '{}', '[]', 'null', '-1', '1e309', '9'.repeat(40)];
const VALUES = [null, true, false, 0, -1, 1.5, 2 ** 63, 1e308, -1e308, '', '\u0000', 'x'.repeat(10_000), [], {}, [null], { a: { b: { c: [1, 2, { d: '\u0000' }] } } }, '2026-13-45T99:99:99Z', 'conc-north', 'plat-1-'];

describe('hub fuzz: malformed HTTP requests and WebSocket frames never stop it', function () {
  this.timeout(1_200_000);
  let hub: Managed;
  let port: number;
  let console_: ConsoleSession;
  let fuzzer: ConsoleSession;
  let kiosk: LightKiosk;
  const served = { console: 0, kiosk: 0 };

  before(async () => {
    const m = readMerged(path.join(EXAMPLE, 'hub.json'));
    assert.ok(m.ok);
    port = await freePort();
    const dir = tmpDir('hp-fuzz-');
    const file = path.join(dir, 'hub.json');
    // Log-in limits high: the fuzzer logs in a lot from one address.
    writeFileSync(
      file,
      JSON.stringify({ ...(m.value as object), $schema: 'hub.schema.json', listen: { host: '127.0.0.1', port }, dataDir: path.join(dir, 'data'), log: { level: process.env.HP_FUZZ_LOG ?? 'fatal' }, console: { loginPerUserPerMin: 100000, loginPerAddressPerMin: 100000 } }),
    );
    hub = start('hub', process.execPath, ['--import', 'tsx', CLI, 'hub', '--config', file], { cwd: REPO });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 300; i++) {
      if ((await fetch(base + '/healthz').catch(() => undefined))?.ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    console_ = await consoleLogin(base, 'admin', 'admin-demo');
    fuzzer = await consoleLogin(base, 'dispatcher', 'dispatcher-demo'); // its own session: it may well log itself out
    kiosk = lightKiosk(`ws://127.0.0.1:${port}/kiosk`, 'conc-north', 'demo-token-conc-north-change-me', { heartbeatMs: 1000 });
    await kiosk.welcomed;
  });
  after(async () => {
    if (process.env.HP_FUZZ_LOG) writeFileSync(path.join(process.env.HP_TEST_TMP ?? '/tmp', 'fuzz-hub.log'), hub.output());
    kiosk?.ws.terminate();
    await hub?.stop();
  });

  let kioskSeq = 0;
  /** The console and the kiosk are still served: a fleet read, and an event stored and acknowledged. */
  async function stillServed(): Promise<void> {
    assert.equal(hub.child.exitCode, null, `the hub exited: ${hub.output().slice(-2000)}`);
    const fleet = await console_.json<{ id: string; online: boolean }[]>('/api/fleet');
    assert.ok(fleet.find((k) => k.id === 'conc-north')?.online, 'the kiosk is online in the console');
    served.console++;
    const id = `conc-north:9:${++kioskSeq}`;
    kiosk.send({ type: 'events', batch: [{ id, seq: kioskSeq, at: new Date().toISOString(), type: 'button.press', data: {} }] });
    const ack = await kiosk.next('events-ack', 15_000);
    assert.deepEqual(ack.ids, [id]);
    served.kiosk++;
  }

  it(`survives ${HTTP_N} malformed HTTP requests`, async () => {
    const r = rng(SEED);
    const paths = ['/', '/login', '/logout', '/api/session', '/api/fleet', '/api/commands', '/api/commands/x', '/api/config', '/api/kiosks/conc-north/config', '/api/kiosks', '/api/kiosks/plat-1/revoke', '/api/events', '/api/events/export', '/api/audit', '/api/clips', '/clips/' + '0'.repeat(64), '/kiosk', '/static/console.css', '/static/../../package.json', '/openapi.json', '/healthz'];
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'BREW', 'get', 'P OST', ''];
    const types = ['application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'audio/wav', '', '*/*', 'application/json\u0000'];
    const body = () =>
      r.pick([
        () => JSON.stringify({ command: r.pick(['pa.play', 'relay.pulse', 'alarm.ack', 'x']), zone: r.pick(WEIRD), kiosks: [r.pick(WEIRD)], args: { v: r.pick(VALUES) } }),
        () => JSON.stringify({ zone: 'concourse', override: { sip: { callTimeLimitS: r.pick(VALUES) }, [r.pick(WEIRD)]: r.pick(VALUES) } }),
        () => JSON.stringify(r.pick(VALUES)),
        () => `user=${enc(r.pick(WEIRD))}&password=${enc(r.pick(WEIRD))}&_csrf=${r.pick(WEIRD)}`,
        () => r.bytes(r.int(3000)).toString('latin1'),
        () => '{"a":' + '['.repeat(5000),
        () => 'x'.repeat(r.pick([0, 100, 70_000, 300_000])),
      ])();
    const raw = (i: number): { data: Buffer; abort: boolean } => {
      const kind = r.int(10);
      const authed = r.next() < 0.5;
      const cookie = authed ? `Cookie: ${fuzzer.cookie}\r\n` : r.next() < 0.2 ? `Cookie: hp_session=${r.pick(WEIRD)}; hp_login=${r.pick(WEIRD)}\r\n` : '';
      const csrf = authed && r.next() < 0.7 ? `X-CSRF-Token: ${fuzzer.csrf}\r\n` : '';
      const target = r.next() < 0.8 ? r.pick(paths) + (r.next() < 0.3 ? `?${r.pick(['kiosk', 'zone', 'from', 'after', 'limit', 'format'])}=${enc(r.pick(WEIRD))}` : '') : r.pick(WEIRD);
      const method = r.pick(methods);
      const b = Buffer.from(body());
      if (kind === 0) return { data: r.bytes(r.int(2000)), abort: r.next() < 0.5 }; // not HTTP at all
      if (kind === 1) return { data: Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: x\r\n${'X-Junk: ' + 'a'.repeat(r.int(20000))}\r\n\r\n`), abort: false }; // huge header
      if (kind === 2)
        // aborted upload: a long body announced, half sent, then the socket closes
        return { data: Buffer.concat([Buffer.from(`POST ${r.pick(['/login', '/api/clips', '/api/config', '/api/commands'])} HTTP/1.1\r\nHost: x\r\n${cookie}${csrf}Content-Type: ${r.pick(types)}\r\nContent-Length: ${b.length + 100_000}\r\n\r\n`), b]), abort: true };
      if (kind === 3)
        return { data: Buffer.from(`POST ${r.pick(paths)} HTTP/1.1\r\nHost: x\r\n${cookie}${csrf}Transfer-Encoding: chunked\r\nContent-Type: ${r.pick(types)}\r\n\r\n${r.pick(['zz\r\n', '5\r\nab', 'ffffffffff\r\n', '3\r\nabc\r\n0\r\n\r\n', '-1\r\n'])}`), abort: r.next() < 0.5 };
      if (kind === 4)
        return { data: Buffer.from(`GET /kiosk HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: ${r.pick(['13', '8', 'x'])}\r\nSec-WebSocket-Key: ${r.pick(['dGhlIHNhbXBsZSBub25jZQ==', '', 'short'])}\r\n${r.next() < 0.5 ? `Authorization: Bearer ${r.pick([...WEIRD, 'demo-token-plat-1-change-me'])}\r\n` : ''}\r\n`), abort: r.next() < 0.3 };
      if (kind === 5) return { data: Buffer.from(`${method} ${target} HTTP/${r.pick(['1.1', '1.0', '2.0', '9', 'x'])}\r\n${r.pick(['Host: x\r\n', '', 'Host: \u0000\r\n', 'Content-Length: -1\r\n', 'Content-Length: 1\r\nContent-Length: 2\r\n', ': \r\n', 'Bad Header\r\n'])}\r\n`), abort: false };
      // well-formed requests with hostile bodies, to reach the handlers
      return { data: Buffer.concat([Buffer.from(`${r.pick(['POST', 'POST', 'GET', 'PUT'])} ${target} HTTP/1.1\r\nHost: x\r\n${cookie}${csrf}Content-Type: ${r.pick(types)}\r\nContent-Length: ${b.length}\r\nConnection: close\r\n\r\n`), b]), abort: i % 17 === 0 };
    };
    const one = (i: number) =>
      new Promise<void>((resolve) => {
        const { data, abort } = raw(i);
        const s = net.connect(port, '127.0.0.1');
        const done = () => {
          clearTimeout(t);
          s.destroy();
          resolve();
        };
        const t = setTimeout(done, 5000);
        s.on('error', done);
        s.on('close', done);
        s.on('data', () => undefined);
        s.on('connect', () => {
          s.write(data, () => (abort ? done() : s.end()));
        });
      });
    const conc = 16;
    for (let i = 0; i < HTTP_N; i += conc) {
      await Promise.all(Array.from({ length: Math.min(conc, HTTP_N - i) }, (_, k) => one(i + k)));
      if ((i / conc) % 40 === 0) await stillServed();
    }
    await stillServed();
  });

  it(`survives ${WS_N} malformed WebSocket frames`, async () => {
    const r = rng(SEED + 1);
    const kiosks = ['plat-1', 'plat-2', 'plat-3', 'conc-south', 'conc-tickets'];
    const frame = (id: string): string | Buffer => {
      const k = r.int(12);
      const ev = () => ({ id: `${r.next() < 0.9 ? id : r.pick(kiosks)}:${r.int(3)}:${r.int(1e6)}`, seq: r.pick([r.int(1e6), ...VALUES]), at: r.pick([new Date().toISOString(), ...WEIRD]), type: r.pick(['alarm.state', 'button.press', ...WEIRD]), data: r.pick(VALUES) });
      const alarm = () => ({ id: `${id}:7:${r.int(1e9)}`, seq: r.int(1e9), at: new Date().toISOString(), type: 'alarm.state', data: { alarmId: r.pick([`${id}-x-1`, `${id}-${r.int(5)}`, 'other-1', ...WEIRD]), state: r.pick(['raised', 'calling', 'reset', 'acknowledged', '__proto__', 'constructor', ...WEIRD]), kind: r.pick(VALUES), category: r.pick(VALUES), at: r.pick(VALUES), raisedAt: r.pick(VALUES) } });
      switch (k) {
        case 0:
          return r.bytes(r.int(500)); // binary
        case 1:
          return r.pick(WEIRD);
        case 2:
          return JSON.stringify({ type: r.pick(['hello', 'heartbeat', 'events', 'config-ack', 'config-nack', 'command-result', 'error', 'welcome', 'x']), [r.pick(WEIRD)]: r.pick(VALUES) });
        case 3:
          return JSON.stringify({ type: 'events', batch: Array.from({ length: r.int(5) + 1 }, ev) });
        case 4:
          return JSON.stringify({ type: 'events', batch: Array.from({ length: r.int(5) + 1 }, alarm) });
        case 5:
          return JSON.stringify({ type: 'heartbeat', at: r.pick(WEIRD).slice(0, 40), faults: [{ code: r.pick(WEIRD).slice(0, 32), detail: r.pick(WEIRD).slice(0, 500) }], outbox: r.pick([0, 5, 2 ** 52]) });
        case 6:
          return JSON.stringify({ type: 'command-result', id: r.pick(WEIRD).slice(0, 128), ok: r.next() < 0.5, error: r.pick(WEIRD).slice(0, 2000) });
        case 7:
          return JSON.stringify({ type: r.pick(['config-ack', 'config-nack']), version: r.pick([0, 1, 2 ** 31, 2 ** 53 - 1]), errors: [{ path: r.pick(WEIRD).slice(0, 300), message: r.pick(WEIRD).slice(0, 500) }] });
        case 8:
          return JSON.stringify({ type: 'hello', protocol: r.pick([1, 2, 0]), kiosk: r.pick([id, ...kiosks]), firmware: r.pick(WEIRD).slice(0, 64), configVersion: r.pick([0, 2 ** 53 - 1, 5]), capabilities: [] });
        case 9:
          return '{"type":"events","batch":[' + '{"id":"x"},'.repeat(r.int(300)) + '{}]}';
        case 10:
          return 'x'.repeat(r.pick([300 * 1024, 100]));
        default:
          return JSON.stringify({ type: 'events', batch: [{ id: `${id}:5:${r.int(1e9)}`, seq: r.int(1e6), at: '\u0000', type: 'x\u0000y', data: { '\u0000': '\u0000', n: 2 ** 70 } }] });
      }
    };
    let sent = 0;
    let rawSent = 0;
    const open = (id: string) =>
      new Promise<WebSocket | undefined>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/kiosk`, { headers: { authorization: `Bearer demo-token-${id}-change-me` } });
        ws.on('open', () => {
          ws.send(JSON.stringify({ type: 'hello', protocol: 1, kiosk: id, firmware: 'fuzz', configVersion: 0, capabilities: [] }));
          resolve(ws);
        });
        ws.on('error', () => resolve(undefined));
        ws.on('message', () => undefined);
      });
    // Broken framing below the JSON: a real handshake, then bytes that are no valid WebSocket frame.
    const rawFrames = (id: string) =>
      new Promise<void>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        const t = setTimeout(() => s.destroy(), 3000);
        s.on('close', () => (clearTimeout(t), resolve()));
        s.on('error', () => undefined);
        s.on('connect', () =>
          s.write(`GET /kiosk HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer demo-token-${id}-change-me\r\n\r\n`),
        );
        let upgraded = false;
        s.on('data', (d) => {
          if (upgraded || !d.toString().startsWith('HTTP/1.1 101')) return void s.end();
          upgraded = true;
          const n = 1 + r.int(5);
          for (let i = 0; i < n; i++) {
            const junk = r.pick([
              () => r.bytes(r.int(64)), // anything
              () => Buffer.from([0x81, 0x05, ...Buffer.from('hello')]), // unmasked client frame
              () => Buffer.from([0x80 | r.int(16), 0xff, ...r.bytes(8)]), // reserved opcodes, 64-bit length
              () => Buffer.from([0xf1, 0x80, 1, 2, 3, 4]), // reserved bits set
              () => Buffer.from([0x89, 0xfe, 0xff, 0xff, 1, 2, 3, 4]), // oversized control frame
              () => Buffer.from([0x01, 0x82, 1, 2, 3, 4, 0xff, 0xfe]), // fragment never finished, bad UTF-8
            ])();
            s.write(junk);
            rawSent++;
          }
          setTimeout(() => s.end(), 50);
        });
      });
    let nextCheck = 0;
    const lanes = kiosks.map(async (id, lane) => {
      let ws: WebSocket | undefined;
      let refused = 0;
      while (sent + rawSent < WS_N && refused < 50) {
        if (r.next() < 0.08) {
          await rawFrames(id);
          continue;
        }
        if (!ws || ws.readyState !== WebSocket.OPEN) ws = await open(id);
        if (!ws) {
          refused++;
          continue;
        }
        ws.send(frame(id));
        sent++;
        if (sent % 25 === lane) await new Promise((res) => setTimeout(res, 5));
        // every 500 frames of all lanes together, checked by lane 0 (sent % 500 < 5 missed a boundary when the other lanes moved sent past it)
        if (lane === 0 && sent >= nextCheck) {
          nextCheck = sent + 500;
          await stillServed();
        }
      }
      ws?.terminate();
    });
    await Promise.all(lanes);
    assert.ok(sent + rawSent >= WS_N, `${sent} frames and ${rawSent} raw frames`);
    await stillServed();
    assert.ok(served.console >= Math.min(20, (HTTP_N + WS_N) / 1000) && served.kiosk === served.console, JSON.stringify(served));
    assert.equal(hub.child.exitCode, null, 'the hub is still running');
    assert.doesNotMatch(hub.output(), /uncaught error/);
  });
});
