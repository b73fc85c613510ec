// How each part decides between live, deferred and restart, and the
// controller's refusals and rollback, on an in-process kiosk (the process
// tests in test/hublink/live-config*.test.ts cover the same through a hub).
import { strict as assert } from 'node:assert';
import { pino } from 'pino';
import { Kiosk } from '../../src/kiosk/app.js';
import { loadKioskConfig } from '../../src/config/load.js';
import type { KioskConfig } from '../../src/config/schema/kiosk.js';
import { changedSections, fingerprint } from '../../src/kiosk/config-diff.js';
import { reconfigureIo } from '../../src/io/reconfigure.js';
import { needsNewUserAgent } from '../../src/intercom/reconfigure.js';
import { reconfigureAudio } from '../../src/audio/reconfigure.js';
import { AudioEngine } from '../../src/audio/engine.js';
import { Bus } from '../../src/core/bus.js';
import { kioskConfigFile } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';

const silent = pino({ level: 'silent' });

function config(overrides: Record<string, unknown> = {}): { config: KioskConfig; dir: string; file: string } {
  const c = kioskConfigFile({ log: { level: 'silent' }, audio: { output: { sink: 'null', rate: 16000 }, input: { source: 'silence' }, volume: 0.8 }, ...overrides });
  const loaded = loadKioskConfig(c.file);
  return { config: loaded.config, dir: loaded.dir, file: c.file };
}
const edit = (c: KioskConfig, f: (x: KioskConfig) => void): KioskConfig => {
  const x = structuredClone(c);
  f(x);
  return x;
};

describe('config changes: what applies live', () => {
  const { config: base } = config();

  it('sections: only those that differ; the fingerprint ignores key order and bookkeeping', () => {
    const next = edit(base, (x) => ((x.audio.volume = 0.3), (x.configVersion = 7)));
    assert.deepEqual(changedSections(base, next), ['audio']);
    const reverse = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reverse) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverse(x)])) : v;
    const reordered = reverse(base) as KioskConfig;
    assert.notEqual(JSON.stringify(reordered), JSON.stringify(base));
    assert.equal(fingerprint({ ...reordered, configVersion: 9, $schema: 'x' }), fingerprint(base));
    assert.notEqual(fingerprint(next), fingerprint(base));
  });

  it('io: debounce and timings live; pins and the driver need a restart', () => {
    assert.equal(reconfigureIo(base.io, edit(base, (x) => (x.io.inputs.emergency.debounceMs = 50)).io), 'applied');
    assert.equal(reconfigureIo(base.io, edit(base, (x) => (x.io.doorPulseMs = 3000)).io), 'applied');
    assert.equal(reconfigureIo(base.io, edit(base, (x) => (x.io.inputs.emergency.pin = 20)).io), 'restart');
    assert.equal(reconfigureIo(base.io, edit(base, (x) => (x.io.outputs.lampGreen.activeLow = true)).io), 'restart');
    assert.equal(reconfigureIo(base.io, base.io), 'unchanged');
  });

  it('intercom: desks are read per call; account, registrars, ports and the name need a new user agent', () => {
    assert.equal(needsNewUserAgent(base, edit(base, (x) => (x.sip.targets.emergency = [{ uri: 'sip:a@127.0.0.1:5999', ringTimeoutS: 5, unreachableAfterS: 5 }]))), false);
    assert.equal(needsNewUserAgent(base, edit(base, (x) => (x.sip.callTimeLimitS = 60))), false);
    assert.equal(needsNewUserAgent(base, edit(base, (x) => (x.sip.account.registrars = [{ uri: 'sip:127.0.0.1:5999', transport: 'udp' }]))), true);
    assert.equal(needsNewUserAgent(base, edit(base, (x) => (x.sip.codecs = ['PCMU']))), true);
    assert.equal(needsNewUserAgent(base, edit(base, (x) => (x.name = 'North'))), true);
    assert.equal(needsNewUserAgent(base, edit(base, (x) => (x.sip.tls = { ca: 'site-ca.pem', serverPins: [] }))), true);
  });

  it('audio: volume, rules and fades live on the running mixer; the mixer rate needs a restart', async () => {
    const dir = tmpDir('hp-audio-');
    const engine = new AudioEngine({ config: base, configDir: dir, dataDir: dir, bus: new Bus(), log: silent });
    try {
      assert.equal(engine.mixer.volume, 0.8);
      const louder = edit(base, (x) => {
        x.audio.volume = 0.5;
        x.pa.rules = [{ over: 'announcement', under: 'music', action: 'mute' }];
        x.pa.fadeMs = 100;
      });
      assert.equal(await reconfigureAudio(engine, base, louder), 'applied');
      assert.equal(engine.mixer.volume, 0.5);
      assert.equal(engine.mixer.arbiter.action('announcement', 'music'), 'mute');
      assert.equal(engine.mixer.fadeMs, 100);
      assert.equal(await reconfigureAudio(engine, louder, edit(louder, (x) => (x.audio.output.rate = 48000))), 'restart');
      assert.equal(await reconfigureAudio(engine, louder, edit(louder, (x) => (x.audio.input.source = 'file'))), 'restart');
      assert.equal(await reconfigureAudio(engine, louder, louder), 'unchanged');
    } finally {
      engine.stop();
    }
  });

  it('audio: a new output device is opened live; one that works again ends the fault the broken one raised', async () => {
    const dir = tmpDir('hp-audio-');
    const bus = new Bus();
    const faults: string[] = [];
    bus.on('audio.fault', (e) => faults.push(`${e.active ? 'raised' : 'cleared'}: ${e.reason}`));
    const engine = new AudioEngine({ config: base, configDir: dir, dataDir: dir, bus, log: silent });
    try {
      await engine.start();
      assert.equal(engine.mixer.sinkKind, 'null');
      const broken = edit(base, (x) => (x.audio.output = { ...x.audio.output, sink: 'file', file: 'no/such/folder/out.raw' }));
      assert.equal(await reconfigureAudio(engine, base, broken), 'applied');
      assert.match(faults.join('\n'), /raised: cannot open audio file/);
      const good = edit(base, (x) => (x.audio.output = { ...x.audio.output, sink: 'file', file: 'out.raw' }));
      assert.equal(await reconfigureAudio(engine, broken, good), 'applied');
      assert.equal(engine.mixer.sinkKind, 'file');
      assert.match(faults.at(-1)!, /^cleared/);
      assert.equal(engine.status().fault, undefined);
    } finally {
      engine.stop();
    }
  });
});

describe('config changes on an in-process kiosk', function () {
  this.timeout(30_000);
  let kiosk: Kiosk | undefined;
  afterEach(async () => {
    await kiosk?.stop();
    kiosk = undefined;
  });

  async function start(overrides: Record<string, unknown> = {}) {
    const c = config({ hub: { url: 'ws://127.0.0.1:9/kiosk', token: 'in-process-token-0001', heartbeatS: 5, configHealthWindowS: 1 }, ...overrides });
    kiosk = new Kiosk({ config: c.config, configDir: c.dir, localPort: 0, logDestination: { write: () => undefined } as never });
    await kiosk.start();
    return { k: kiosk, base: c.config };
  }
  const doc = (c: KioskConfig) => JSON.parse(JSON.stringify(c)) as Record<string, unknown>;

  it('a change a capability cannot apply (a wayfinding map that does not load) is refused and the running config kept', async () => {
    const { k, base } = await start();
    const bad = edit(base, (x) => (x.display.wayfinding = 'no-such-map.json'));
    const r = await k.reconfigure(1, doc(bad));
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.code === 'apply-failed', JSON.stringify(r));
    assert.ok(!r.ok && r.errors.some((e) => e.path === '/display'), JSON.stringify(r));
    assert.equal(k.config.configVersion, 0);
    assert.equal(k.config.display.wayfinding, base.display.wayfinding);
    assert.ok(k.screen?.map, 'the screen still has its map');
    // the same version again is refused with the reason
    const again = await k.reconfigure(1, doc(bad));
    assert.ok(!again.ok && again.code === 'rolled-back', JSON.stringify(again));
  });

  it('a new fault inside the health window rolls back at once, applied the same way, and says why', async () => {
    const { k, base } = await start();
    const rolled = new Promise<{ version: number; to: number; reason: string }>((resolve) => k.bus.once('config.rollback', resolve));
    const back = new Promise<void>((resolve) => k.bus.on('config.applied', (e) => e.source === 'lkg' && resolve()));
    const broken = edit(base, (x) => (x.audio.output = { ...x.audio.output, sink: 'file', file: 'no/such/folder/out.raw' }));
    const r = await k.reconfigure(4, doc(broken));
    assert.ok(r.ok && r.live.includes('audio'), JSON.stringify(r));
    const rb = await rolled;
    assert.deepEqual([rb.version, rb.to], [4, base.configVersion]);
    assert.match(rb.reason, /new fault audio: cannot open audio file/);
    await back;
    assert.equal(k.config.configVersion, base.configVersion);
    assert.equal(k.audio?.mixer.sinkKind, 'null', 'the old output again');
    assert.deepEqual(k.faults.list(), [], 'and its fault is gone with it');
  });

  it('refuses a config for another kiosk and an older version; keeps its own store folder and local port', async () => {
    const { k, base } = await start();
    const other = await k.reconfigure(1, { ...doc(base), id: 'plat-1', zone: 'platforms' });
    assert.ok(!other.ok && other.code === 'wrong-kiosk', JSON.stringify(other));
    const ok = await k.reconfigure(2, { ...doc(edit(base, (x) => (x.audio.volume = 0.4))), dataDir: tmpDir('hp-elsewhere-'), local: { host: '127.0.0.1', port: 8199 } });
    assert.ok(ok.ok, JSON.stringify(ok));
    assert.deepEqual([ok.live, ok.restart], [['audio'], []]);
    assert.deepEqual([k.config.dataDir, k.config.local], [base.dataDir, base.local]);
    const older = await k.reconfigure(1, doc(base));
    assert.ok(!older.ok && older.code === 'stale', JSON.stringify(older));
    assert.equal(k.config.configVersion, 2);
  });

  it('keeps the reboot command of its own file: a pushed system section is not used, neither added nor changed', async () => {
    const own = { rebootCommand: ['systemctl', 'reboot'] };
    const { k, base } = await start({ system: own });
    const changed = await k.reconfigure(1, { ...doc(edit(base, (x) => (x.audio.volume = 0.4))), system: { rebootCommand: ['sh', '-c', 'anything'] } });
    assert.ok(changed.ok, JSON.stringify(changed));
    assert.deepEqual([changed.live, changed.restart], [['audio'], []]);
    assert.deepEqual(k.config.system, own);
    // a kiosk whose file has none gets none from the hub
    await k.stop();
    const { k: bare, base: bareBase } = await start();
    assert.equal(bareBase.system, undefined);
    const added = await bare.reconfigure(1, { ...doc(edit(bareBase, (x) => (x.audio.volume = 0.4))), system: { rebootCommand: ['sh', '-c', 'anything'] } });
    assert.ok(added.ok, JSON.stringify(added));
    assert.equal(bare.config.system, undefined);
    const refused = await bare.ctx.reboot('hub:someone');
    assert.equal(refused, 'reboot refused: this kiosk may not be rebooted from the hub (no system.rebootCommand in its file)');
  });

  it('refuses a pushed sip.tls whose file is not next to the kiosk\'s config file, at its path; the running config kept', async () => {
    const { k, base } = await start();
    const r = await k.reconfigure(1, doc(edit(base, (x) => (x.sip.tls = { ca: 'no-such-site-ca.pem', serverPins: [] }))));
    assert.ok(!r.ok && r.code === 'invalid', JSON.stringify(r));
    assert.ok(!r.ok && r.errors.some((e) => e.path === '/sip/tls/ca' && /no-such-site-ca\.pem/.test(e.message)), JSON.stringify(r));
    assert.equal(k.config.configVersion, 0);
    assert.equal(k.config.sip.tls, undefined);
  });

  it('refuses a pushed SIP account named like the site SIP server\'s paging addresses, at its path; the running config kept', async () => {
    const { k, base } = await start();
    const r = await k.reconfigure(1, doc(edit(base, (x) => (x.sip.account.user = 'page-zone-north'))));
    assert.ok(!r.ok && r.code === 'invalid', JSON.stringify(r));
    assert.ok(!r.ok && r.errors.some((e) => e.path === '/sip/account/user' && /reserved at the site SIP server/.test(e.message)), JSON.stringify(r));
    assert.equal(k.config.configVersion, 0);
    assert.equal(k.config.sip.account.user, base.sip.account.user);
  });

  it('a restart section without a supervisor is reported, and the kiosk runs on', async () => {
    const { k, base } = await start();
    const r = await k.reconfigure(1, doc(edit(base, (x) => (x.io.inputs.emergency.pin = 20))));
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual([r.live, r.restart], [[], ['io']]);
    assert.match(k.restartPending ?? '', /io need a restart/);
  });

  it('the file is the floor; a config that passed its window becomes the last-known-good', async () => {
    const { k, base } = await start();
    assert.equal(k.applier.lastKnownGood().configVersion, base.configVersion);
    const healthy = new Promise<{ version: number }>((resolve) => k.bus.once('config.healthy', resolve));
    const r = await k.reconfigure(3, doc(edit(base, (x) => (x.audio.volume = 0.3))));
    assert.ok(r.ok && r.healthWindowS === 1, JSON.stringify(r));
    assert.equal(k.applier.lastKnownGood().configVersion, base.configVersion, 'not before the window');
    assert.equal((await healthy).version, 3);
    assert.equal(k.applier.lastKnownGood().configVersion, 3);
  });
});
