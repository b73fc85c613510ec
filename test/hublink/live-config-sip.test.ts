// The SIP section from the hub, live, on a real kiosk process with two real
// Kamailio registrars and a sipp desk: a new registrar is registered with
// without a restart; during a call the new user agent waits until the call
// ends (the call is not dropped); a registrar that does not answer is rolled
// back by the kiosk itself inside the health window, and the hub hears why.
import { strict as assert } from 'node:assert';
import { startKamailio, type Kamailio } from '../../src/testbed/kamailio.js';
import { stopAll } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { kioskConfigFile, startKioskProcess, postJson, type KioskProc } from '../helpers/processes.js';
import { FakeHub } from '../helpers/fake-hub.js';
import { until } from '../helpers/tmp.js';
import { desk } from '../intercom/helpers.js';

const TOKEN = 'live-config-token-conc-north';
const KIOSK = 'conc-north';
const users = { 'conc-north': 'kiosk-secret' };

type Health = { configVersion: number; capabilities: Record<string, { state: string; detail?: string }> };
const health = async (k: KioskProc) => (await (await fetch(k.url + 'health')).json()) as Health;

describe('config from the hub: SIP registrar, live', function () {
  this.timeout(120_000);
  let hub: FakeHub;
  let a: Kamailio;
  let b: Kamailio;
  let kiosk: KioskProc;
  let base: Record<string, any>;

  const registrar = (port: number) => [{ uri: `sip:127.0.0.1:${port}`, transport: 'udp' }];
  const sipWith = (changes: Record<string, unknown>) => {
    const doc = structuredClone(base);
    delete doc.$schema;
    doc.sip = { ...doc.sip, ...changes, account: { ...doc.sip.account, ...((changes.account as object) ?? {}) } };
    return doc;
  };
  const registers = (k: Kamailio) => k.proc.output().split('\n').filter((l) => /REQ REGISTER .*fU=conc-north/.test(l)).length;
  const registered = async () => (await health(kiosk)).capabilities.intercom?.state === 'running';

  before(async () => {
    hub = await FakeHub.start({ [TOKEN]: KIOSK });
    a = await startKamailio({ users });
    b = await startKamailio({ users });
    const c = kioskConfigFile({
      hub: { url: hub.url, token: TOKEN, heartbeatS: 1, configHealthWindowS: 3 },
      sip: { account: { user: 'conc-north', password: 'kiosk-secret', domain: '127.0.0.1', registrars: registrar(a.port) } },
    });
    base = c.config;
    kiosk = await startKioskProcess(c.file);
    await until(() => hub.online(KIOSK), 10_000, 'kiosk online at the hub');
    await until(registered, 10_000, 'registered with the first Kamailio');
  });
  after(async () => {
    await stopAll();
    await hub?.stop();
  });

  it('a new registrar: REGISTER reaches the second Kamailio, without a restart', async () => {
    assert.equal(registers(b), 0);
    const ack = await hub.pushAndWait(KIOSK, 1, sipWith({ account: { registrars: registrar(b.port) } }));
    assert.ok(ack.type === 'config-ack', JSON.stringify(ack));
    assert.deepEqual([ack.live, ack.deferred, ack.restart], [['sip'], [], []]);
    await until(() => registers(b) > 0, 10_000, 'REGISTER at the second Kamailio');
    await until(registered, 10_000, 'registered again');
    await hub.waitEvent('config.healthy', (d) => d.version === 1);
    assert.equal(kiosk.proc.restarts, 0);
  });

  it('during a call the new registrar waits until the call ends; the call is not dropped', async () => {
    const d = await desk('desk-answer-talk-d-bye.xml', ['-d', '6000']);
    const targets = { emergency: [{ uri: d.uri, ringTimeoutS: 10 }], information: [{ uri: d.uri }] };
    // desks are read per call: live, no new user agent
    const t = await hub.pushAndWait(KIOSK, 2, sipWith({ account: { registrars: registrar(b.port) }, targets }));
    assert.ok(t.type === 'config-ack', JSON.stringify(t));
    assert.deepEqual(t.live, ['sip']);
    await hub.waitEvent('config.healthy', (e) => e.version === 2);

    // An information call: an emergency is now an alarm, re-sent to the desks after this desk hangs up
    // without acknowledging it, so the kiosk would not become idle within the test.
    await postJson(kiosk.url + 'sim/press', { input: 'information', ms: 60 });
    const connected = await hub.waitEvent('call.state', (e) => e.state === 'connected', 15_000);
    const callId = connected.data.callId;
    const atA = registers(a);
    const ack = await hub.pushAndWait(KIOSK, 3, sipWith({ account: { registrars: registrar(a.port) }, targets }));
    assert.ok(ack.type === 'config-ack', JSON.stringify(ack));
    assert.deepEqual([ack.live, ack.deferred, ack.restart], [[], ['sip'], []]);
    // another push during the call (live): its health window waits for the deferred SIP change too
    const v4 = await hub.pushAndWait(KIOSK, 4, { ...sipWith({ account: { registrars: registrar(a.port) }, targets }), audio: { ...base.audio, volume: 0.5 } });
    assert.ok(v4.type === 'config-ack', JSON.stringify(v4));
    assert.deepEqual([v4.live, v4.deferred], [['audio'], []]);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(registers(a), atA, 'no new REGISTER while the call is up');
    assert.equal(hub.event('call.state', (e) => e.callId === callId && (e.state === 'ended' || e.state === 'failed')), undefined, 'the call is still up');

    // the desk hangs up after its 6 s: the call ended normally, then the new user agent registers
    assert.equal(await d.proc.exited, 0, 'the desk saw the whole call, its BYE answered');
    const end = await hub.waitEvent('call.state', (e) => e.callId === callId && (e.state === 'ended' || e.state === 'failed'));
    assert.equal(end.data.state, 'ended');
    await until(() => registers(a) > atA, 10_000, 'REGISTER at the first Kamailio after the call');
    const healthy = await hub.waitEvent('config.healthy', (e) => e.version === 4);
    assert.ok(hub.events.indexOf(healthy) > hub.events.indexOf(end), 'version 4 was judged only after the call, with its SIP change in');
    assert.equal(hub.event('config.healthy', (e) => e.version === 3), undefined, 'version 3 was replaced by 4 before its window');
  });

  it('a registrar that does not answer: the kiosk rolls back by itself inside the health window and says why', async () => {
    const nowhere = await freePort();
    const bad = sipWith({ account: { registrars: registrar(nowhere) } });
    const ack = await hub.pushAndWait(KIOSK, 5, bad);
    assert.ok(ack.type === 'config-ack', JSON.stringify(ack));
    const atA = registers(a);
    const rb = await hub.waitEvent('config.rollback', (e) => e.version === 5, 15_000);
    assert.equal(rb.data.to, 4);
    // With the sip-registration fault (2 s grace) the new fault ends the window early; without it, the window's end finds SIP unregistered.
    assert.match(rb.data.reason, /SIP not registered|new fault sip-registration: not registered/);
    const applied = await hub.waitEvent('config.applied', (e) => e.version === 4 && e.source === 'lkg');
    assert.deepEqual(applied.data.live.sort(), ['audio', 'sip']);
    assert.equal((await health(kiosk)).configVersion, 4);
    await until(() => registers(a) > atA, 10_000, 'registered with the first Kamailio again');
    await until(registered, 10_000, 'registered');
    // offered again, the failed version is refused with the reason
    const again = await hub.pushAndWait(KIOSK, 5, bad);
    assert.ok(again.type === 'config-nack' && again.code === 'rolled-back', JSON.stringify(again));
    assert.match(again.errors[0]!.message, /SIP not registered|new fault sip-registration: not registered/);
    assert.equal(kiosk.proc.restarts, 0);
  });
});
