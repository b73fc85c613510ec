// Config from the hub, live, on real kiosk processes: a change of the audio
// volume, of the screen's default language, of the hub link and of the SIP
// registrar each takes effect without a manual restart; the ack says how each
// section took effect; a conflicting version is refused, the same one acked
// again. The hub here is a minimal protocol-level hub (test/helpers/fake-hub.ts):
// the real hub is being rebuilt, and only the protocol matters to the kiosk.
import { strict as assert } from 'node:assert';
import { readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { stopAll } from '../../src/testbed/proc.js';
import { kioskConfigFile, startKioskProcess, postJson, type KioskProc } from '../helpers/processes.js';
import { FakeHub } from '../helpers/fake-hub.js';
import { sleep, until } from '../helpers/tmp.js';
import { launchChromium } from '../display/helpers.js';

const TOKEN = 'live-config-token-conc-north';
const KIOSK = 'conc-north';

type Health = { configVersion: number; capabilities: Record<string, { state: string; detail?: string }>; faults: unknown[] };
const health = async (k: KioskProc) => (await (await fetch(k.url + 'health')).json()) as Health;
const paStatus = async (k: KioskProc) => (await (await fetch(k.url + 'pa')).json()) as { volume: number; recent: { event: string; id: string; reason?: string }[] };

/** A pushed document: the kiosk's own config with changes merged in (one level deep per section). */
function withChanges(base: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const doc = structuredClone(base);
  delete doc.$schema;
  for (const [k, v] of Object.entries(changes)) {
    const b = doc[k];
    doc[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' ? { ...(b as object), ...(v as object) } : v;
  }
  return doc;
}

/** Sum of squares: silence around the sound adds nothing, so two captures of one message compare by level alone. */
function energy(x: Int16Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return s;
}

describe('config from the hub: live apply, ack details, conflicting versions', function () {
  this.timeout(90_000);
  let hub: FakeHub;
  let hub2: FakeHub;
  let kiosk: KioskProc;
  let base: Record<string, unknown>;
  let capture: string;
  let browser: Browser | undefined;

  before(async () => {
    hub = await FakeHub.start({ [TOKEN]: KIOSK });
    hub2 = await FakeHub.start({ [TOKEN]: KIOSK }, 1); // an older hub: protocol 1
    const c = kioskConfigFile({
      hub: { url: hub.url, token: TOKEN, heartbeatS: 1, configHealthWindowS: 2 },
      audio: { output: { sink: 'file', file: 'out.raw', rate: 16000 }, input: { source: 'silence' }, volume: 0.8 },
      pa: { chime: false, languages: ['en'], multicast: [], schedule: [] },
      display: { defaultLanguage: 'zh-CN' },
    });
    base = c.config;
    capture = path.join(c.dir, 'out.raw');
    kiosk = await startKioskProcess(c.file);
    await until(() => hub.online(KIOSK), 10_000, 'kiosk online at the hub');
  });
  after(async () => {
    await browser?.close();
    await stopAll();
    await hub?.stop();
    await hub2?.stop();
  });

  /** Plays a bundled message and returns what the output device got meanwhile. */
  async function played(id: string): Promise<Int16Array> {
    const from = existsSync(capture) ? statSync(capture).size : 0;
    assert.equal((await postJson(kiosk.url + 'pa/play', { id, channel: 'announcement', message: 'drill' })).status, 202);
    await until(async () => (await paStatus(kiosk)).recent.some((e) => e.event === 'pa.ended' && e.id === id), 15_000, `${id} played`);
    const b = readFileSync(capture).subarray(from);
    return new Int16Array(b.buffer, b.byteOffset, b.length >> 1);
  }

  it('audio volume: the next announcement is played at the new volume, without a restart', async () => {
    const before = await played('v-before');
    const ack = await hub.pushAndWait(KIOSK, 1, withChanges(base, { audio: { volume: 0.2 } }));
    assert.equal(ack.type, 'config-ack', JSON.stringify(ack));
    assert.ok(ack.type === 'config-ack');
    assert.deepEqual(ack.live, ['audio']);
    assert.deepEqual(ack.restart, []);
    assert.deepEqual(ack.deferred, []);
    assert.equal(ack.healthWindowS, 2);
    assert.equal((await paStatus(kiosk)).volume, 0.2);
    const after = await played('v-after');
    const ratio = Math.sqrt(energy(after) / energy(before));
    assert.ok(Math.abs(ratio - 0.25) < 0.01, `output level ratio ${ratio.toFixed(4)}, expected 0.2/0.8`);
    assert.equal(kiosk.proc.restarts, 0, 'no restart');
    // After the health window the version is last-known-good, and the hub hears it.
    const ev = await hub.waitEvent('config.healthy', (d) => d.version === 1);
    assert.equal(ev.data.windowS, 2);
  });

  it("screen: the open page switches to the new default language, without a reload", async () => {
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(kiosk.url);
    await page.waitForFunction("document.getElementById('site').textContent !== ''");
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    const ack = await hub.pushAndWait(KIOSK, 2, withChanges(base, { audio: { volume: 0.2 }, display: { defaultLanguage: 'en' } }));
    assert.ok(ack.type === 'config-ack', JSON.stringify(ack));
    assert.deepEqual(ack.live, ['display']);
    await page.waitForFunction(() => document.documentElement.lang === 'en', undefined, { timeout: 5000 });
    assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'the page was not reloaded');
    const site = (base.site as { name: { en: string } }).name.en;
    assert.equal(await page.evaluate(() => document.getElementById('site')!.textContent), site);
    await hub.waitEvent('config.healthy', (d) => d.version === 2);
  });

  it('the same version with the same document is acknowledged again; with another document it is refused', async () => {
    const doc2 = withChanges(base, { audio: { volume: 0.2 }, display: { defaultLanguage: 'en' } });
    const again = await hub.pushAndWait(KIOSK, 2, doc2);
    assert.ok(again.type === 'config-ack', JSON.stringify(again));
    assert.equal(again.repeat, true);
    assert.deepEqual([again.live, again.restart], [[], []]);

    const other = await hub.pushAndWait(KIOSK, 2, withChanges(doc2, { audio: { volume: 0.5 } }));
    assert.ok(other.type === 'config-nack', JSON.stringify(other));
    assert.equal(other.code, 'conflict');
    assert.match(other.errors[0]!.message, /already here with a different document/);
    const older = await hub.pushAndWait(KIOSK, 1, withChanges(base, { audio: { volume: 0.2 } }));
    assert.ok(older.type === 'config-nack' && older.code === 'stale', JSON.stringify(older));
    const h = await health(kiosk);
    assert.equal(h.configVersion, 2);
    assert.equal((await paStatus(kiosk)).volume, 0.2, 'nothing changed');
    assert.deepEqual(hub.invalid, [], 'every frame the kiosk sent is valid protocol');
  });

  it('hub link: a new URL moves the kiosk to the new hub; an older hub gets plain acks', async () => {
    const doc = withChanges(base, { audio: { volume: 0.2 }, display: { defaultLanguage: 'en' }, hub: { url: hub2.url, token: TOKEN, heartbeatS: 1, configHealthWindowS: 2 } });
    const ack = await hub.pushAndWait(KIOSK, 3, doc);
    assert.ok(ack.type === 'config-ack', JSON.stringify(ack));
    assert.deepEqual(ack.live, ['hub']);
    await until(() => hub2.hellos(KIOSK).some((h) => h.configVersion === 3), 15_000, 'hello at the new hub');
    // the health window's verdict reaches the hub the kiosk is connected to now
    await hub2.waitEvent('config.healthy', (d) => d.version === 3);
    const plain = await hub2.pushAndWait(KIOSK, 4, withChanges(doc, { audio: { volume: 0.3 } }));
    assert.deepEqual(plain, { type: 'config-ack', version: 4 }, 'a protocol-1 hub gets the version only');
    assert.equal((await paStatus(kiosk)).volume, 0.3);
    assert.equal(kiosk.proc.restarts, 0, 'all of it without a restart');
  });
});

describe('config from the hub: sections that need a restart; a crash during the health window', function () {
  this.timeout(90_000);
  let hub: FakeHub;
  // A hub per test: each test's kiosk has a fresh store, so its event ids start over.
  beforeEach(async () => (hub = await FakeHub.start({ [TOKEN]: KIOSK })));
  afterEach(async () => {
    await stopAll();
    await hub?.stop();
  });

  it('restarts itself cleanly for a new pin map, comes back on the new config and confirms it after the window', async () => {
    const c = kioskConfigFile({ hub: { url: hub.url, token: TOKEN, heartbeatS: 1, configHealthWindowS: 2 } });
    const kiosk = await startKioskProcess(c.file);
    await until(() => hub.online(KIOSK), 10_000, 'online');
    const io = structuredClone(c.config.io) as { inputs: { emergency: { pin: number } } };
    io.inputs.emergency.pin = 20; // a free pin (16 is the staff reset key)
    const ready = kiosk.proc.waitForNext(/"msg":"ready"/, 30_000);
    const ack = await hub.pushAndWait(KIOSK, 1, withChanges(c.config, { io }));
    assert.ok(ack.type === 'config-ack', JSON.stringify(ack));
    assert.deepEqual([ack.live, ack.restart], [[], ['io']]);
    const line = await ready; // the kiosk is back
    assert.equal(kiosk.proc.restarts, 1);
    const url = (JSON.parse(line) as { local: string }).local;
    const h = (await (await fetch(url + 'health')).json()) as Health;
    assert.equal(h.configVersion, 1);
    await until(() => hub.hellos(KIOSK).some((x) => x.configVersion === 1), 10_000, 'hello with version 1');
    await hub.waitEvent('config.healthy', (d) => d.version === 1);
    const applied = hub.event('config.applied', (d) => d.version === 1 && d.source === 'hub');
    assert.deepEqual(applied?.data.restart, ['io']);
    assert.equal(hub.event('config.rollback'), undefined);
    await kiosk.stop();
  });

  it('a kiosk that stops unexpectedly during the window starts on the last-known-good and reports why', async () => {
    const c = kioskConfigFile({ hub: { url: hub.url, token: TOKEN, heartbeatS: 1, configHealthWindowS: 2 } });
    const hellos = hub.hellos(KIOSK).length;
    let kiosk = await startKioskProcess(c.file);
    await until(() => hub.hellos(KIOSK).length > hellos, 10_000, 'online');
    // version 5 passes its window: it is the last-known-good
    await hub.pushAndWait(KIOSK, 5, withChanges(c.config, { audio: { volume: 0.5 } }));
    await hub.waitEvent('config.healthy', (d) => d.version === 5);
    // version 6 has a long window, and the kiosk dies inside it
    const six = withChanges(c.config, { audio: { volume: 0.4 }, hub: { url: hub.url, token: TOKEN, heartbeatS: 1, configHealthWindowS: 60 } });
    const ack = await hub.pushAndWait(KIOSK, 6, six);
    assert.ok(ack.type === 'config-ack');
    process.kill(-kiosk.proc.pid, 'SIGKILL');
    await kiosk.proc.exited;
    const hellosBefore = hub.hellos(KIOSK).length;
    kiosk = await startKioskProcess(c.file);
    assert.equal((await health(kiosk)).configVersion, 5);
    const rb = await hub.waitEvent('config.rollback', (d) => d.version === 6);
    assert.equal(rb.data.to, 5);
    assert.match(rb.data.reason, /stopped unexpectedly/);
    // the same version again is refused with the reason, not applied again
    await until(() => hub.hellos(KIOSK).length > hellosBefore, 10_000, 'online again');
    const again = await hub.pushAndWait(KIOSK, 6, six);
    assert.ok(again.type === 'config-nack' && again.code === 'rolled-back', JSON.stringify(again));
    await sleep(100);
    assert.equal((await health(kiosk)).configVersion, 5);
    await kiosk.stop();
  });
});
