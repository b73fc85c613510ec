// Pages through the site's SIP server (route[PAGE] in src/sipserver/kamailio-cfg.ts):
// a registered phone (baresip) calls sip:page-KIOSK@domain; Kamailio
// authenticates it like any INVITE, finds the kiosk's registration and sends
// the INVITE there as the kiosk's paging user. The kiosk has no
// sip.trustedSources: it trusts the page only because it came from its
// registrar, answers receive-only and plays the phone's audio. A page to a
// kiosk that is not registered gets 480, to no kiosk at all 404; on the
// production template an unauthenticated caller is challenged (407).
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startKamailio } from '../../src/testbed/kamailio.js';
import { runKamailio } from '../../src/testbed/kamailio.js';
import { startRtpengine } from '../../src/testbed/rtpengine.js';
import { startBaresip, type Baresip } from '../../src/testbed/baresip.js';
import { freePort } from '../../src/testbed/ports.js';
import { stopAll } from '../../src/testbed/proc.js';
import { productionKamailioCfg } from '../../src/sipserver/production.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';
import { callRig, type CallRig } from '../intercom/helpers.js';
import { assertPlayedAsSent, makeTone } from '../intercom/sox.js';
import { sipRegister } from '../desk/sip-register.js';

const PAGE_HZ = 1000;

/** Sends one INVITE over UDP from a socket of its own and resolves with the final status line's code and reason. */
async function inviteStatus(port: number, ruri: string, fromUser: string): Promise<{ code: number; reason: string; reply: string }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const local = sock.address().port;
  const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendonly', ''].join('\r\n');
  const msg = [
    `INVITE ${ruri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${local};rport;branch=z9hG4bK${randomBytes(6).toString('hex')}`,
    'Max-Forwards: 70',
    `From: <sip:${fromUser}@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`,
    `To: <${ruri}>`,
    `Call-ID: ${randomBytes(8).toString('hex')}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:${fromUser}@127.0.0.1:${local}>`,
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    sdp,
  ].join('\r\n');
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no final answer to INVITE ${ruri}`)), 5000);
      sock.on('message', (m) => {
        const reply = m.toString();
        const st = /^SIP\/2\.0 (\d{3}) ([^\r\n]*)/.exec(reply);
        if (!st || st[1]!.startsWith('1')) return;
        clearTimeout(timer);
        resolve({ code: Number(st[1]), reason: st[2]!, reply });
      });
      sock.send(msg, port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

/** A kiosk registered as conc-north at the SIP server on `port`, paging on, no trusted sources. */
async function pagedKiosk(port: number, capture: string, transport: 'udp' | 'tcp' = 'udp'): Promise<CallRig> {
  const rig = await callRig({
    sip: {
      account: { user: 'conc-north', password: 'kiosk-secret', domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${port}${transport === 'tcp' ? ';transport=tcp' : ''}`, transport }] },
      trustedSources: [],
      paging: { user: 'page' },
    },
    audio: { input: { source: 'silence' }, output: { sink: 'file', file: capture, rate: 16000 }, volume: 1, handsFree: { mode: 'off' } },
  });
  await until(() => rig.events().some((e) => e.type === 'sip.registration' && e.data.registered), 15_000, 'kiosk registered');
  return rig;
}

/** The phone pages the kiosk through the SIP server for 3 s: the kiosk answered recvonly from its registrar and played the phone's tone. */
async function pageAndMeasure(phone: Baresip, rig: CallRig, sipPort: number, capture: string, phoneWav: string, transport: 'udp' | 'tcp' = 'udp'): Promise<void> {
  const r = await phone.command('dial', 'sip:page-conc-north@127.0.0.1');
  assert.ok(r.ok, r.data);
  const started = await until(() => rig.events().find((e) => e.type === 'call.page' && e.data.state === 'started'), 10_000, 'call.page started').catch((err: Error) => {
    throw new Error(`${err.message}; events: ${JSON.stringify(rig.events().filter((e) => e.type === 'call.page'))}`);
  });
  // Trusted by arrival: from the registrar's own address and port (UDP) or over the connection the kiosk opened
  // to it (TCP); the kiosk trusts no other source here.
  assert.equal(started.data.via, `${transport}:127.0.0.1:${sipPort}`);
  assert.match(started.data.from, /^dispatcher@/);
  await sleep(3000);
  await phone.command('hangup');
  const ended = await until(() => rig.events().find((e) => e.type === 'call.page' && e.data.state === 'ended'), 10_000, 'call.page ended');
  assert.equal(ended.data.reason, 'hung up');
  assert.deepEqual(rig.events().filter((e) => e.type === 'call.state'), [], 'a page is no intercom call');
  const stats = await until(() => rig.events().find((e) => e.type === 'call.media'), 5000, 'call.media');
  assert.equal(stats.data.packetsSent, 0);
  assert.ok(stats.data.packetsReceived > 100, `received ${stats.data.packetsReceived}`);
  await rig.kiosk.stop();
  assertPlayedAsSent(capture, phoneWav);
}

describe('SIP server: pages to sip:page-KIOSK@domain', function () {
  this.timeout(90_000);
  afterEach(() => stopAll());

  it('test bed: a registered phone pages a kiosk through Kamailio; the kiosk answers recvonly and plays it', async () => {
    const dir = tmpDir('hp-pageroute-');
    const capture = path.join(dir, 'played.raw');
    const phoneWav = makeTone(path.join(dir, 'phone.wav'), PAGE_HZ, 20, 16000, 0.25);
    const kam = await startKamailio({ users: { 'conc-north': 'kiosk-secret', 'conc-south': 'kiosk-secret', dispatcher: 'dispatcher-secret' } });
    const phone = await startBaresip({ user: 'dispatcher', sourceWav: phoneWav, registrar: { uri: `sip:127.0.0.1:${kam.port}`, domain: '127.0.0.1', password: 'dispatcher-secret' } });
    await until(async () => /OK/.test((await phone.command('reginfo')).data), 10_000, 'baresip registered');
    const rig = await pagedKiosk(kam.port, capture);
    // A second, stale registration of the kiosk (a contact nobody answers at): it is paged too, as the paging user, and the kiosk's answer wins.
    assert.equal(await sipRegister({ port: kam.port, user: 'conc-north', password: 'kiosk-secret' }), 200);
    await pageAndMeasure(phone, rig, kam.port, capture, phoneWav);
    const branches = kam.proc.output().match(/page conc-north from sip:dispatcher@127\.0\.0\.1: \S+/g) ?? [];
    assert.equal(branches.length, 2, branches.join('\n'));
    for (const b of branches) assert.match(b, /: sip:page@127\.0\.0\.1:\d+/);
    // No kiosk by that name: 404. A kiosk with an account that is not registered (now that conc-north stopped,
    // conc-south never was): 480 at once from the SIP server, nothing rings.
    const none = await inviteStatus(kam.port, 'sip:page-nobody@127.0.0.1', 'caller');
    assert.equal(none.code, 404, none.reply);
    const south = await inviteStatus(kam.port, 'sip:page-conc-south@127.0.0.1', 'caller');
    assert.equal(south.code, 480, south.reply);
    assert.match(south.reason, /conc-south is not registered/);
  });

  it('test bed, the kiosk registered over TCP: the page comes over the connection the kiosk opened, and plays', async () => {
    const dir = tmpDir('hp-pageroute-tcp-');
    const capture = path.join(dir, 'played.raw');
    const phoneWav = makeTone(path.join(dir, 'phone.wav'), PAGE_HZ, 20, 16000, 0.25);
    const kam = await startKamailio({ users: { 'conc-north': 'kiosk-secret', dispatcher: 'dispatcher-secret' } });
    const phone = await startBaresip({ user: 'dispatcher', sourceWav: phoneWav, registrar: { uri: `sip:127.0.0.1:${kam.port}`, domain: '127.0.0.1', password: 'dispatcher-secret' } });
    await until(async () => /OK/.test((await phone.command('reginfo')).data), 10_000, 'baresip registered');
    const rig = await pagedKiosk(kam.port, capture, 'tcp');
    await pageAndMeasure(phone, rig, kam.port, capture, phoneWav, 'tcp');
  });

  it('production template: an unauthenticated page is challenged, an authenticated phone pages the kiosk', async () => {
    const dir = tmpDir('hp-pageroute-prod-');
    const capture = path.join(dir, 'played.raw');
    const phoneWav = makeTone(path.join(dir, 'phone.wav'), PAGE_HZ, 20, 16000, 0.25);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    writeFileSync(path.join(dir, 'tls.cfg'), `[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\nprivate_key = ${dir}/key.pem\ncertificate = ${dir}/cert.pem\n`);
    const realm = '127.0.0.1';
    const ha1 = (u: string, p: string) => createHash('md5').update(`${u}:${realm}:${p}`).digest('hex');
    writeFileSync(
      path.join(dir, 'users.cfg'),
      `event_route[htable:mod-init] {\n  $sht(users=>conc-north) = "${ha1('conc-north', 'kiosk-secret')}";\n  $sht(users=>dispatcher) = "${ha1('dispatcher', 'dispatcher-secret')}";\n}\n`,
    );
    const rtpengine = await startRtpengine();
    const [sip, sips, wss, rpc] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const cfg = productionKamailioCfg({
      site: { SIP_IP: '127.0.0.1', SIP_DOMAIN: realm, SIP_PORT: String(sip), SIPS_PORT: String(sips), WSS_PORT: String(wss), RTPENGINE_SOCK: rtpengine.sock, RPC_IP: '127.0.0.1', RPC_PORT: String(rpc) },
      tlsConfig: path.join(dir, 'tls.cfg'),
      usersFile: path.join(dir, 'users.cfg'),
    });
    await runKamailio(cfg, wss);
    const rig = await pagedKiosk(sip, capture);
    // Without credentials, whatever its From says (here an account's, and the kiosk's own): challenged, the kiosk sees nothing.
    for (const from of ['dispatcher', 'conc-north', 'stranger']) {
      const r = await inviteStatus(sip, `sip:page-conc-north@${realm}`, from);
      assert.equal(r.code, 407, `${from}: ${r.reply}`);
    }
    assert.ok(!rig.events().some((e) => e.type === 'call.page'), 'an unauthenticated page reached the kiosk');
    const phone = await startBaresip({ user: 'dispatcher', sourceWav: phoneWav, registrar: { uri: `sip:127.0.0.1:${sip}`, domain: realm, password: 'dispatcher-secret' } });
    await until(async () => /OK/.test((await phone.command('reginfo')).data), 10_000, 'baresip registered');
    await pageAndMeasure(phone, rig, sip, capture, phoneWav);
  });
});
