// Zone group pages and all-call from SIP phones (pa.sipPhones): a registered
// phone (baresip) dials sip:page-group-public-areas@domain or
// sip:page-all@domain; the site SIP server (the test bed's Kamailio)
// authenticates it and sends the call to the hub's page gateway with the
// group and the caller asserted; the hub process pages every zone of the
// group (site zones[].groups) as one live page, as a console's page to
// several zones. Real kiosk processes in three zones, two of them in the
// group, play it into ALSA file captures. Then what must not page: a phone
// listed for one zone of the group, all-call from a phone without "*", a
// group that does not exist, a forged group header. Last, the production
// template: what reaches the gateway's registration carries the group the
// caller dialled and the identity the server authenticated, not the caller's.
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
const USERS = { page: 'gateway-secret', both: 'both-secret', deskphone: 'phone-secret', control: 'control-secret', intruder: 'intruder-secret' };
// Concourse and platforms form the group "public-areas"; the depot is outside it.
const SITE_ZONES = [
  { id: 'concourse', name: { en: 'Concourse' }, groups: ['public-areas'] },
  { id: 'platforms', name: { en: 'Platforms' }, groups: ['public-areas'] },
  { id: 'depot', name: { en: 'Depot' }, groups: ['staff'] },
];

interface Action {
  id: string;
  kind: string;
  channel: string;
  zones: string[];
  createdBy: string;
  counts: { total: number; finished: number };
}

describe('zone group pages and all-call from SIP phones through the hub\'s page gateway (Kamailio, hub and kiosk processes, baresip)', function () {
  this.timeout(180_000);
  let kam: Kamailio;
  let hub: { base: string; proc: Managed };
  let gatewayPort: number;
  let dispatcher: ConsoleSession;
  let admin: ConsoleSession;
  let dir: string;
  const kiosks = new Map<string, { capture: string; proc: Managed }>();
  const base = `239.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}`;
  const ofTest = [
    { id: 'conc-north', zone: 'concourse', location: { text: { en: 'Concourse, north entrance' }, x: 40, y: 15 } },
    { id: 'plat-1', zone: 'platforms', location: { text: { en: 'Platform 1' }, x: 150, y: 20 } },
    { id: 'plat-2', zone: 'depot', location: { text: { en: 'Depot gate' }, x: 150, y: 60 } },
  ];

  before(async () => {
    dir = tmpDir('hp-grouppage-');
    kam = await startKamailio({ users: USERS });
    const port = await freePort();
    gatewayPort = await freePort();
    const m = (n: number) => ({ group: `${base}.${n}`, port, emergencyGroup: `${base}.${10 + n}`, emergencyPort: port });
    hub = await startHubProcess({
      site: { id: 'central-station', name: { en: 'Central Station' }, timezone: 'UTC', zones: SITE_ZONES },
      kiosks: ofTest.map((k) => ({ ...k, tokenSha256: createHash('sha256').update(token(k.id)).digest('hex') })),
      log: { level: 'info' },
      pa: {
        languages: ['zh-CN', 'en'],
        chime: true,
        gateway: { account: { user: 'page', password: USERS.page, domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${kam.port}`, transport: 'udp' }] }, localHost: '127.0.0.1', localPort: gatewayPort },
        sipPhones: [
          { user: 'both', zones: ['concourse', 'platforms'] },
          { user: 'deskphone', zones: ['concourse'] },
          { user: 'control', zones: '*' },
        ],
        zones: { concourse: m(1), platforms: m(2), depot: m(3) },
        multicastInterface: '127.0.0.1',
      },
    });
    await Promise.all(
      ofTest.map(async (k) => {
        const alsa = alsaCapture();
        const { file } = kioskConfigFile(
          {
            zone: k.zone,
            site: { zones: SITE_ZONES },
            log: { level: 'info' },
            audio: { output: { sink: 'alsa', device: 'default', rate: RATE }, input: { source: 'silence' }, volume: 1 },
            hub: { url: `${hub.base.replace('http', 'ws')}/kiosk`, token: token(k.id), heartbeatS: 2 },
            pa: { hubPages: { interface: '127.0.0.1', unicastPort: 0 } },
          },
          k.id,
        );
        const proc = await startKiosk(file, { XDG_CONFIG_HOME: alsa.xdg });
        kiosks.set(k.id, { capture: alsa.capture, proc: proc.proc });
      }),
    );
    dispatcher = await consoleLogin(hub.base, 'dispatcher', 'dispatcher-demo');
    admin = await consoleLogin(hub.base, 'admin', 'admin-demo');
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
  const marks = () => new Map(ofTest.map((k) => [k.id, captureSamples(kiosks.get(k.id)!.capture).length]));
  const since = (id: string, from: Map<string, number>) => captureSamples(kiosks.get(id)!.capture).subarray(from.get(id));
  const silent = (x: Int16Array) => loudWindows(x, 1000, RATE, 0.005).length + loudWindows(x, 784, RATE, 0.005).length === 0;

  /** baresip as `user` dials `uri` and talks a 1 kHz tone for 3 s; the page's PA action once all its receipts finished. */
  async function pageFromPhone(user: keyof typeof USERS, uri: string, receipts: number): Promise<Action> {
    const toneWav = makeTone(path.join(dir, `${user}-1k.wav`), 1000, 20, 16000, 0.3);
    const phone = await startBaresip({ user, sourceWav: toneWav, registrar: { uri: `sip:127.0.0.1:${kam.port}`, domain: '127.0.0.1', password: USERS[user] } });
    try {
      await until(async () => /OK/.test((await phone.command('reginfo')).data), 10_000, 'baresip registered');
      const known = new Set((await actions()).map((a) => a.id));
      const r = await phone.command('dial', uri);
      assert.ok(r.ok, r.data);
      const action = await until(async () => (await actions()).find((a) => !known.has(a.id) && a.createdBy === `sip:${user}`), 10_000, 'the page among the PA actions');
      await until(async () => (await dispatcher.json<{ id: string; live: boolean; by: string }[]>('/api/pa/live')).some((p) => p.id === action.id && p.live && p.by === `sip:${user}`), 10_000, 'the page live');
      await sleep(3000);
      await phone.command('hangup');
      return await until(async () => {
        const a = (await actions()).find((x) => x.id === action.id)!;
        return a.counts.finished === receipts ? a : undefined;
      }, 15_000, `${receipts} receipts finished`);
    } finally {
      await phone.stop();
    }
  }

  /** The phone's tone after the chime, at the level and pitch it was sent. */
  function heard(id: string, x: Int16Array): void {
    const tone = loudWindows(x, 1000, RATE);
    assert.ok(tone.length / RATE >= 1.5, `${id}: only ${tone.length / RATE} s of the phone's tone (${x.length / RATE} s captured)`);
    const raw = path.join(dir, `${id}-${Date.now()}-tone.raw`);
    writeFileSync(raw, Buffer.from(tone.buffer, tone.byteOffset, tone.byteLength));
    const got = soxStat(raw, { rate: RATE });
    assert.ok(Math.abs(got.freq - 1000) / 1000 <= 0.05, `${id} played ${got.freq} Hz, the phone sent 1000 Hz`);
    assert.ok(loudWindows(x, 784, RATE, 0.05).length > 0, `${id}: the chime before the voice`);
  }

  async function audited(id: string): Promise<{ user: string; role: string; target: string; result: string; detail: { id?: string; zones?: string[] } }> {
    const audit = await admin.json<{ user: string; role: string; target: string; result: string; detail: { id?: string; zones?: string[] } }[]>('/api/audit?action=pa.live');
    const rec = audit.find((e) => e.detail?.id === id);
    assert.ok(rec, JSON.stringify(audit));
    return rec;
  }

  it('a phone listed for both zones dials page-group-public-areas: one page to the group\'s kiosks with receipts, the depot hears nothing', async () => {
    const from = marks();
    const action = await pageFromPhone('both', 'sip:page-group-public-areas@127.0.0.1', 2);
    assert.match(action.id, /^pa-l-/);
    assert.deepEqual([action.kind, action.channel, action.createdBy], ['live', 'page', 'sip:both']);
    assert.deepEqual(action.zones, ['concourse', 'platforms']);
    assert.equal(action.counts.total, 2);
    const receipts = await dispatcher.json<{ receipts: { kiosk: string; state: string }[] }>(`/api/pa/actions/${action.id}`);
    assert.deepEqual(receipts.receipts.map((x) => [x.kiosk, x.state]).sort(), [
      ['conc-north', 'finished'],
      ['plat-1', 'finished'],
    ]);
    heard('conc-north', since('conc-north', from));
    heard('plat-1', since('plat-1', from));
    assert.ok(silent(since('plat-2', from)), 'the depot, outside the group, heard the page');
    const rec = await audited(action.id);
    assert.deepEqual([rec.user, rec.role, rec.target, rec.result], ['sip:both', 'sip-phone', 'group:public-areas', 'ok']);
    assert.deepEqual(rec.detail.zones, ['concourse', 'platforms']);
  });

  it('a phone with zones "*" dials page-all: every zone\'s kiosk plays it', async () => {
    const from = marks();
    const action = await pageFromPhone('control', 'sip:page-all@127.0.0.1', 3);
    assert.deepEqual([action.kind, action.channel, action.createdBy], ['live', 'page', 'sip:control']);
    assert.deepEqual(action.zones, ['concourse', 'platforms', 'depot']);
    for (const k of ofTest) heard(k.id, since(k.id, from));
    const rec = await audited(action.id);
    assert.deepEqual([rec.user, rec.target, rec.result], ['sip:control', 'all', 'ok']);
  });

  it('refused with 403 and the reason, nothing played: a phone listed for one zone of the group, all-call without "*", no such group, forged group headers', async () => {
    const before = (await actions()).length;
    const from = marks();
    // baresip listed for the concourse only dials the group: refused, nothing reaches a kiosk.
    const toneWav = makeTone(path.join(dir, 'deskphone-1k.wav'), 1000, 20, 16000, 0.3);
    const phone = await startBaresip({ user: 'deskphone', sourceWav: toneWav, registrar: { uri: `sip:127.0.0.1:${kam.port}`, domain: '127.0.0.1', password: USERS.deskphone } });
    await until(async () => /OK/.test((await phone.command('reginfo')).data), 10_000, 'baresip registered');
    await phone.command('dial', 'sip:page-group-public-areas@127.0.0.1');
    await until(async () => hub.proc.output().includes('may not page zone group'), 10_000, 'the refusal in the hub\'s log');
    await sleep(2000);
    await phone.stop();
    const desk = await rawUa({ server: kam.port, user: 'deskphone', password: USERS.deskphone });
    const both = await rawUa({ server: kam.port, user: 'both', password: USERS.both });
    const control = await rawUa({ server: kam.port, user: 'control', password: USERS.control });
    const intruder = await rawUa({ server: kam.port, user: 'intruder', password: USERS.intruder });
    const stranger = await rawUa({ server: kam.port, user: 'stranger' });
    const direct = await rawUa({ server: gatewayPort, user: 'control' });
    try {
      const group = await desk.invite('sip:page-group-public-areas@127.0.0.1');
      assert.equal(group.code, 403, group.reply);
      assert.match(group.reason, /^Zone Page Not Allowed: sip:deskphone may not page zone group 'public-areas': not its zone\(s\) platforms$/);
      for (const [ua, who] of [[desk, 'deskphone'], [both, 'both']] as const) {
        const all = await ua.invite('sip:page-all@127.0.0.1');
        assert.equal(all.code, 403, all.reply);
        assert.match(all.reason, new RegExp(`sip:${who} may not page all zones`));
      }
      const nowhere = await control.invite('sip:page-group-nowhere@127.0.0.1');
      assert.equal(nowhere.code, 403, nowhere.reply);
      assert.match(nowhere.reason, /no zone group 'nowhere'/);
      // Malformed names never reach the hub (an empty one neither).
      for (const bad of ['page-group-', 'page-group-a!b', 'page-zone-']) {
        const r = await control.invite(`sip:${bad}@127.0.0.1`);
        assert.equal(r.code, 404, `${bad}: ${r.reply}`);
      }
      // Authenticated as intruder, forging the all-call phone's identity and an all-call header on a zone page
      // and on a call to the gateway's own user: the SIP server drops both.
      const forged = await intruder.invite('sip:page-zone-concourse@127.0.0.1', ['P-Asserted-Identity: <sip:control@127.0.0.1>', 'X-Helppoint-Page-Group: *']);
      assert.equal(forged.code, 403, forged.reply);
      assert.match(forged.reason, /sip:intruder is not a paging phone/);
      const toGateway = await intruder.invite('sip:page@127.0.0.1', ['P-Asserted-Identity: <sip:control@127.0.0.1>', 'X-Helppoint-Page-Group: *']);
      assert.equal(toGateway.code, 403, toGateway.reply);
      assert.match(toGateway.reason, /Unknown Or Expired Page/);
      const unauth = await stranger.invite('sip:page-all@127.0.0.1');
      assert.equal(unauth.code, 403, unauth.reply);
      assert.match(unauth.reason, /authenticated caller/);
      // Straight to the gateway's port with what the SIP server would set: refused, and not told why.
      const bypass = await direct.invite(`sip:page@127.0.0.1:${gatewayPort}`, ['P-Asserted-Identity: <sip:control@127.0.0.1>', 'X-Helppoint-Page-Group: *']);
      assert.equal(bypass.code, 403, bypass.reply);
      assert.equal(bypass.reason, 'Zone Page Not Allowed');
    } finally {
      for (const u of [desk, both, control, intruder, stranger, direct]) u.close();
    }
    await sleep(500);
    assert.equal((await actions()).length, before, 'a refused call made a PA action');
    for (const k of ofTest) assert.ok(silent(since(k.id, from)), `${k.id} played something of a refused page`);
    const refusals = hub.proc.output().split('\n').filter((l) => l.includes('zone page from a SIP phone refused'));
    assert.ok(refusals.some((l) => l.includes('"by":"sip:deskphone"') && l.includes('"zone":"group:public-areas"') && l.includes('not its zone(s) platforms')), refusals.join('\n'));
    assert.ok(refusals.some((l) => l.includes('"by":"sip:both"') && l.includes('"zone":"all"')), refusals.join('\n'));
    assert.ok(refusals.some((l) => l.includes('"zone":"all"') && l.includes('not from the site SIP server')), refusals.join('\n'));
    assert.ok(!refusals.some((l) => l.includes('"by":"sip:control"') && l.includes('"zone":"all"')), 'a forged identity was taken for the all-call phone');
    const audit = await admin.json<{ user: string; target: string; result: string; detail: { reason?: string } }[]>('/api/audit?action=pa.live');
    const refused = audit.filter((e) => e.result === 'refused').map((e) => `${e.user} ${e.target}`);
    for (const r of ['sip:deskphone group:public-areas', 'sip:deskphone all', 'sip:both all', 'sip:control group:nowhere']) assert.ok(refused.includes(r), `${r} not audited: ${refused.join('; ')}`);
  });

  it('production template: the gateway gets the group dialled (or "*" for all-call) and the authenticated caller, never the caller\'s own; 404 malformed, 480 no gateway', async () => {
    const users = { 'pa-gateway': 'gateway-secret', control: USERS.control, intruder: USERS.intruder };
    const { sip, realm } = await productionSipServer(users, 'hp-grouppage-prod-');
    const gateway = await rawUa({ server: sip, user: 'pa-gateway', password: users['pa-gateway'] });
    const intruder = await rawUa({ server: sip, user: 'intruder', password: users.intruder });
    const unauth = await rawUa({ server: sip, user: 'control' });
    const header = (inv: string, name: string) => inv.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(name.length + 1).trim());
    try {
      // The gateway not registered yet.
      const early = await intruder.invite(`sip:page-all@${realm}`);
      assert.equal(early.code, 480, early.reply);
      assert.equal(await gateway.register(), 200);
      const r = await unauth.invite(`sip:page-all@${realm}`, ['P-Asserted-Identity: <sip:control@127.0.0.1>']);
      assert.equal(r.code, 407, r.reply);
      const bad = await intruder.invite(`sip:page-group-a!b@${realm}`);
      assert.equal(bad.code, 404, bad.reply);
      assert.equal(gateway.requests.filter((m) => m.startsWith('INVITE ')).length, 0, 'the gateway was sent a page that should have stopped at the SIP server');
      const forged = ['P-Asserted-Identity: <sip:control@127.0.0.1>', 'X-Helppoint-Page-Group: *', 'X-Helppoint-Page-Zone: depot'];
      for (const [uri, group] of [
        ['page-group-public-areas', 'public-areas'],
        ['page-all', '*'],
      ]) {
        const seen = gateway.requests.length;
        const f = await intruder.invite(`sip:${uri}@${realm}`, forged);
        assert.equal(f.code, 603, f.reply);
        const inv = gateway.requests.slice(seen).find((m) => m.startsWith('INVITE '));
        assert.ok(inv, `${uri} reached the gateway`);
        assert.match(inv, /^INVITE sip:pa-gateway@127\.0\.0\.1:\d+ SIP\/2\.0/);
        assert.deepEqual(header(inv, 'P-Asserted-Identity'), [`<sip:intruder@${realm}>`]);
        assert.deepEqual(header(inv, 'X-Helppoint-Page-Group'), [group]);
        assert.deepEqual(header(inv, 'X-Helppoint-Page-Zone'), []);
      }
    } finally {
      for (const u of [gateway, intruder, unauth]) u.close();
    }
  });
});
