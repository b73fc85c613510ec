// Zone pages from desk SIP phones (pa.sipPhones): a registered phone (baresip)
// dials sip:page-zone-concourse@domain; the site SIP server (the test bed's
// Kamailio) authenticates it and sends the call to the hub's page gateway
// with the zone and the caller asserted; the hub process pages the zone like
// a console's live Talk (chime, multicast, receipts). Real kiosk processes
// play it into ALSA file captures; the kiosk of the other zone hears nothing.
// Then what must not page: a phone not listed, a listed phone for a zone not
// its own, an authenticated caller forging the asserted identity, a caller
// without an account, and a call to the gateway that bypasses the SIP server.
// Last, the production template: an unauthenticated zone page is challenged,
// and what reaches the gateway's registration carries the identity the
// server authenticated, not the one the caller wrote.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startKamailio, type Kamailio } from '../../src/testbed/kamailio.js';
import { startBaresip } from '../../src/testbed/baresip.js';
import { freePort } from '../../src/testbed/ports.js';
import { stopAll, type Managed } from '../../src/testbed/proc.js';
import { kioskConfigFile } from '../helpers/processes.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';
import { makeTone, soxStat } from '../intercom/sox.js';
import { alsaCapture, captureSamples, loudWindows } from '../audio/helpers.js';
import { startHubProcess, startKiosk, token } from './helpers.js';
import { rawUa } from './sip-raw.js';
import { productionSipServer } from './production-sip.js';

const RATE = 16000;
const USERS = { page: 'gateway-secret', deskphone: 'phone-secret', control: 'control-secret', intruder: 'intruder-secret' };



interface Action {
  id: string;
  kind: string;
  channel: string;
  zones: string[];
  createdBy: string;
  counts: { total: number; finished: number };
}

describe('zone pages from SIP phones through the hub\'s page gateway (Kamailio, hub and kiosk processes, baresip)', function () {
  this.timeout(180_000);
  let kam: Kamailio;
  let hub: { base: string; proc: Managed };
  let gatewayPort: number;
  let dispatcher: ConsoleSession;
  let dir: string;
  const kiosks = new Map<string, { capture: string; url: string; proc: Managed }>();
  const base = `239.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}`;

  before(async () => {
    dir = tmpDir('hp-zonepage-');
    kam = await startKamailio({ users: USERS });
    const port = await freePort();
    gatewayPort = await freePort();
    const ofTest = [
      { id: 'conc-north', zone: 'concourse', location: { text: { en: 'Concourse, north entrance' }, x: 40, y: 15 } },
      { id: 'conc-south', zone: 'concourse', location: { text: { en: 'Concourse, south entrance' }, x: 40, y: 105 } },
      { id: 'plat-1', zone: 'platforms', location: { text: { en: 'Platform 1' }, x: 150, y: 20 } },
    ];
    hub = await startHubProcess({
      kiosks: ofTest.map((k) => ({ ...k, tokenSha256: createHash('sha256').update(token(k.id)).digest('hex') })),
      log: { level: 'info' },
      pa: {
        languages: ['zh-CN', 'en'],
        chime: true,
        gateway: { account: { user: 'page', password: USERS.page, domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${kam.port}`, transport: 'udp' }] }, localHost: '127.0.0.1', localPort: gatewayPort },
        sipPhones: [{ user: 'deskphone', zones: ['concourse'] }, { user: 'control', zones: '*', emergency: true }],
        zones: {
          concourse: { group: `${base}.1`, port, emergencyGroup: `${base}.11`, emergencyPort: port },
          platforms: { group: `${base}.2`, port, emergencyGroup: `${base}.12`, emergencyPort: port },
        },
        multicastInterface: '127.0.0.1',
      },
    });
    await Promise.all(
      ofTest.map(async (k) => {
        const alsa = alsaCapture();
        const { file } = kioskConfigFile(
          {
            log: { level: 'info' },
            audio: { output: { sink: 'alsa', device: 'default', rate: RATE }, input: { source: 'silence' }, volume: 1 },
            hub: { url: `${hub.base.replace('http', 'ws')}/kiosk`, token: token(k.id), heartbeatS: 2 },
            pa: { hubPages: { interface: '127.0.0.1', unicastPort: 0 } },
          },
          k.id,
        );
        const proc = await startKiosk(file, { XDG_CONFIG_HOME: alsa.xdg });
        kiosks.set(k.id, { capture: alsa.capture, url: proc.url, proc: proc.proc });
      }),
    );
    dispatcher = await consoleLogin(hub.base, 'dispatcher', 'dispatcher-demo');
    await until(async () => (await dispatcher.json<{ online: boolean }[]>('/api/fleet')).filter((k) => k.online).length === 3, 30_000, 'three kiosks online');
    await until(async () => (await dispatcher.json<{ gateway: { ready: boolean } }>('/api/pa/config')).gateway.ready, 20_000, 'the page gateway registered');
  });

  after(async () => {
    if (process.env.HP_DEBUG) {
      writeFileSync(process.env.HP_DEBUG, hub?.proc.output() ?? '');
      writeFileSync(`${process.env.HP_DEBUG}.kamailio`, kam?.proc.output() ?? '');
    }
    await stopAll();
  });

  const actions = () => dispatcher.json<Action[]>('/api/pa/actions');

  it('a listed phone dials page-zone-concourse: the zone\'s kiosks play it with receipts, the other zone nothing; audited as the phone', async () => {
    const toneWav = makeTone(path.join(dir, 'phone-1k.wav'), 1000, 20, 16000, 0.3);
    const phone = await startBaresip({ user: 'deskphone', sourceWav: toneWav, registrar: { uri: `sip:127.0.0.1:${kam.port}`, domain: '127.0.0.1', password: USERS.deskphone } });
    await until(async () => /OK/.test((await phone.command('reginfo')).data), 10_000, 'baresip registered');
    const fromB = captureSamples(kiosks.get('plat-1')!.capture).length;
    const r = await phone.command('dial', 'sip:page-zone-concourse@127.0.0.1');
    assert.ok(r.ok, r.data);
    const action = await until(async () => (await actions()).find((a) => a.createdBy === 'sip:deskphone'), 10_000, 'the page among the PA actions');
    assert.match(action.id, /^pa-l-/);
    assert.equal(action.kind, 'live');
    assert.deepEqual(action.zones, ['concourse']);
    await until(async () => (await dispatcher.json<{ id: string; live: boolean; by: string }[]>('/api/pa/live')).some((p) => p.id === action.id && p.live && p.by === 'sip:deskphone'), 10_000, 'the page live');
    await sleep(3000);
    await phone.command('hangup');
    const done = await until(async () => {
      const a = (await actions()).find((x) => x.id === action.id)!;
      return a.counts.finished === 2 ? a : undefined;
    }, 15_000, 'both receipts of the zone finished');
    assert.equal(done.counts.total, 2);
    const receipts = await dispatcher.json<{ receipts: { kiosk: string; state: string }[] }>(`/api/pa/actions/${action.id}`);
    assert.deepEqual(receipts.receipts.map((x) => [x.kiosk, x.state]).sort(), [
      ['conc-north', 'finished'],
      ['conc-south', 'finished'],
    ]);
    // The phone's tone, after the chime, at both kiosks of the zone.
    for (const id of ['conc-north', 'conc-south']) {
      const x = captureSamples(kiosks.get(id)!.capture);
      const tone = loudWindows(x, 1000, RATE);
      assert.ok(tone.length / RATE >= 1.5, `${id}: only ${tone.length / RATE} s of the phone's tone (${x.length / RATE} s captured)`);
      const raw = path.join(dir, `${id}-tone.raw`);
      writeFileSync(raw, Buffer.from(tone.buffer, tone.byteOffset, tone.byteLength));
      const got = soxStat(raw, { rate: RATE });
      assert.ok(Math.abs(got.freq - 1000) / 1000 <= 0.05, `${id} played ${got.freq} Hz, the phone sent 1000 Hz`);
      assert.ok(loudWindows(x, 784, RATE, 0.05).length > 0, `${id}: the chime before the voice`);
    }
    const b = captureSamples(kiosks.get('plat-1')!.capture).subarray(fromB);
    assert.equal(loudWindows(b, 1000, RATE, 0.005).length + loudWindows(b, 784, RATE, 0.005).length, 0, 'the other zone heard the page');
    const admin = await consoleLogin(hub.base, 'admin', 'admin-demo');
    const audit = await admin.json<{ user: string; role: string; action: string; target: string; result: string; detail: { id?: string } }[]>('/api/audit?action=pa.live');
    const rec = audit.find((e) => e.detail?.id === action.id);
    assert.ok(rec, JSON.stringify(audit));
    assert.deepEqual([rec.user, rec.role, rec.target, rec.result], ['sip:deskphone', 'sip-phone', 'concourse', 'ok']);
    assert.equal(action.channel, 'page');
    await phone.stop();
  });

  it('a phone listed with emergency: true pages any zone as an emergency page', async () => {
    const toneWav = makeTone(path.join(dir, 'control-1k.wav'), 1000, 20, 16000, 0.3);
    const phone = await startBaresip({ user: 'control', sourceWav: toneWav, registrar: { uri: `sip:127.0.0.1:${kam.port}`, domain: '127.0.0.1', password: USERS.control } });
    await until(async () => /OK/.test((await phone.command('reginfo')).data), 10_000, 'baresip registered');
    const from = captureSamples(kiosks.get('plat-1')!.capture).length;
    assert.ok((await phone.command('dial', 'sip:page-zone-platforms@127.0.0.1')).ok);
    const action = await until(async () => (await actions()).find((a) => a.createdBy === 'sip:control'), 10_000, 'the page among the PA actions');
    assert.equal(action.channel, 'emergency');
    assert.deepEqual(action.zones, ['platforms']);
    await until(async () => (await dispatcher.json<{ id: string; live: boolean; emergency: boolean }[]>('/api/pa/live')).some((p) => p.id === action.id && p.live && p.emergency), 10_000, 'the emergency page live');
    await sleep(2500);
    await phone.command('hangup');
    await until(async () => (await actions()).find((x) => x.id === action.id)!.counts.finished === 1, 15_000, 'the platform kiosk\'s receipt finished');
    const x = captureSamples(kiosks.get('plat-1')!.capture).subarray(from);
    assert.ok(loudWindows(x, 1000, RATE).length / RATE >= 1, `plat-1: only ${loudWindows(x, 1000, RATE).length / RATE} s of the phone's tone`);
    await phone.stop();
  });

  it('refused with 403 and nothing paged: a phone not listed, another zone, a forged identity, no account, bypassing the SIP server', async () => {
    const before = (await actions()).length;
    const intruder = await rawUa({ server: kam.port, user: 'intruder', password: USERS.intruder });
    const desk = await rawUa({ server: kam.port, user: 'deskphone', password: USERS.deskphone });
    const stranger = await rawUa({ server: kam.port, user: 'stranger' });
    const direct = await rawUa({ server: gatewayPort, user: 'deskphone' });
    try {
      // Authenticated, not in pa.sipPhones.
      const notListed = await intruder.invite('sip:page-zone-concourse@127.0.0.1');
      assert.equal(notListed.code, 403, notListed.reply);
      assert.match(notListed.reason, /Zone Page Not Allowed/);
      // Listed, but for the concourse only; and a zone that does not exist.
      for (const zone of ['platforms', 'nowhere']) {
        const r = await desk.invite(`sip:page-zone-${zone}@127.0.0.1`);
        assert.equal(r.code, 403, `${zone}: ${r.reply}`);
      }
      // Authenticated as intruder, claiming to be the listed phone: the SIP server drops the caller's own assertion and zone.
      const forged = await intruder.invite('sip:page-zone-concourse@127.0.0.1', ['P-Asserted-Identity: <sip:deskphone@127.0.0.1>', 'X-Helppoint-Page-Zone: concourse']);
      assert.equal(forged.code, 403, forged.reply);
      // Calling the gateway's own user with the headers, through the SIP server: they are removed there, so no zone page.
      const toGateway = await intruder.invite('sip:page@127.0.0.1', ['P-Asserted-Identity: <sip:deskphone@127.0.0.1>', 'X-Helppoint-Page-Zone: concourse']);
      assert.equal(toGateway.code, 403, toGateway.reply);
      assert.match(toGateway.reason, /Unknown Or Expired Page/);
      // No account (the test bed lets it through unauthenticated, as sipp callers): a zone page needs an authenticated caller.
      const unauth = await stranger.invite('sip:page-zone-concourse@127.0.0.1');
      assert.equal(unauth.code, 403, unauth.reply);
      assert.match(unauth.reason, /authenticated caller/);
      // Straight to the gateway's port with everything the SIP server would set: not over the registration, refused.
      const bypass = await direct.invite(`sip:page@127.0.0.1:${gatewayPort}`, ['P-Asserted-Identity: <sip:deskphone@127.0.0.1>', 'X-Helppoint-Page-Zone: concourse']);
      assert.equal(bypass.code, 403, bypass.reply);
    } finally {
      for (const u of [intruder, desk, stranger, direct]) u.close();
    }
    await sleep(500);
    assert.equal((await actions()).length, before, 'a refused call made a PA action');
    const log = hub.proc.output();
    const refusals = log.split('\n').filter((l) => l.includes('zone page from a SIP phone refused'));
    assert.ok(refusals.some((l) => l.includes('"by":"sip:intruder"') && l.includes('is not a paging phone')), refusals.join('\n'));
    assert.ok(refusals.some((l) => l.includes('may not page zone \\"platforms\\"')), refusals.join('\n'));
    assert.ok(refusals.some((l) => l.includes('not from the site SIP server')), refusals.join('\n'));
    assert.ok(!refusals.some((l) => l.includes('"by":"sip:deskphone"') && l.includes('"zone":"concourse"')), 'a forged identity was taken for the listed phone');
    // The refusals of authenticated callers are audited with who they were.
    const admin = await consoleLogin(hub.base, 'admin', 'admin-demo');
    const audit = await admin.json<{ user: string; result: string }[]>('/api/audit?action=pa.live');
    assert.ok(audit.some((e) => e.user === 'sip:intruder' && e.result === 'refused'));
  });

  it('production template: an unauthenticated zone page is challenged; the gateway gets the authenticated caller and the zone, never the caller\'s own', async () => {
    const users = { 'pa-gateway': 'gateway-secret', deskphone: USERS.deskphone, intruder: USERS.intruder };
    const { sip, realm } = await productionSipServer(users, 'hp-zonepage-prod-');
    // The gateway's registration: a bare contact that records what it is sent and declines it.
    const gateway = await rawUa({ server: sip, user: 'pa-gateway', password: users['pa-gateway'] });
    const intruder = await rawUa({ server: sip, user: 'intruder', password: users.intruder });
    const unauth = await rawUa({ server: sip, user: 'deskphone' });
    try {
      assert.equal(await gateway.register(), 200);
      // No credentials, whatever the From and the headers say: challenged, nothing reaches the gateway.
      const r = await unauth.invite(`sip:page-zone-concourse@${realm}`, ['P-Asserted-Identity: <sip:deskphone@127.0.0.1>']);
      assert.equal(r.code, 407, r.reply);
      assert.equal(gateway.requests.length, 0);
      // Authenticated as intruder, claiming the listed phone and another zone.
      const f = await intruder.invite(`sip:page-zone-concourse@${realm}`, ['P-Asserted-Identity: <sip:deskphone@127.0.0.1>', 'X-Helppoint-Page-Zone: platforms']);
      assert.equal(f.code, 603, f.reply);
      const inv = gateway.requests.find((m) => m.startsWith('INVITE '));
      assert.ok(inv, 'the zone page reached the gateway');
      assert.match(inv, /^INVITE sip:pa-gateway@127\.0\.0\.1:\d+ SIP\/2\.0/);
      const header = (name: string) => inv.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(name.length + 1).trim());
      assert.deepEqual(header('P-Asserted-Identity'), [`<sip:intruder@${realm}>`]);
      assert.deepEqual(header('X-Helppoint-Page-Zone'), ['concourse']);
    } finally {
      for (const u of [gateway, intruder, unauth]) u.close();
    }
  });
});
