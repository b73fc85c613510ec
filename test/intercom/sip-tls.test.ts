// SIP over TLS against Kamailio's TLS module: the kiosk verifies the site
// SIP server against the site CA of sip.tls.ca (a file relative to the config
// file), registers and calls a baresip desk through Kamailio with audio both
// ways. A server certificate signed by another CA, or one that matches no pin
// of sip.tls.serverPins, is refused: the event sip.tls with the reason, a log
// line, and the sip-registration fault within the start-up budget.
import { strict as assert } from 'node:assert';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runKamailio, startKamailio, type Kamailio } from '../../src/testbed/kamailio.js';
import { startBaresip, type Baresip } from '../../src/testbed/baresip.js';
import { stopAll } from '../../src/testbed/proc.js';
import { certDigests } from '../../src/intercom/transports/tls-verify.js';
import { FIRST_REGISTRATION_MS } from '../../src/intercom/registration-fault.js';
import { tmpDir, until, sleep } from '../helpers/tmp.js';
import { makeCa, makeLeaf, type Pem } from '../helpers/tls-certs.js';
import { alarmCallToBaresipDesk, callRig, type CallRig } from './helpers.js';
import { kioskConfigFile, startKioskProcess } from '../helpers/processes.js';
import { FakeHub } from '../helpers/fake-hub.js';
import { makeTone, soxStat, soxStatFull } from './sox.js';

const der = (pemFile: string) => Buffer.from(readFileSync(pemFile, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');

describe('intercom: SIP over TLS through Kamailio', function () {
  this.timeout(60_000);
  let kam: Kamailio;
  let deskPhone: Baresip;
  let dir: string;
  let server: Pem;
  let other: Pem;
  /** a path relative to the kiosk's config folder (both are folders of the test run's temporary folder) */
  let rel: (file: string) => string;

  before(async () => {
    dir = tmpDir('hp-siptls-');
    rel = (file) => path.join('..', path.basename(dir), path.basename(file));
    const siteCa = makeCa(dir, 'site-ca');
    const otherCa = makeCa(dir, 'other-ca');
    server = makeLeaf(dir, 'sip-server', siteCa, 'IP:127.0.0.1,DNS:localhost');
    other = makeLeaf(dir, 'other-server', otherCa, 'IP:127.0.0.1');
    kam = await startKamailio({ users: { 'conc-north': 'kiosk-secret', desk: 'desk-secret' }, tls: server });
    const deskWav = makeTone(path.join(dir, 'desk-600.wav'), 600, 30, 8000, 0.25);
    deskPhone = await startBaresip({ user: 'desk', sourceWav: deskWav, registrar: { uri: `sip:127.0.0.1:${kam.port}`, domain: '127.0.0.1', password: 'desk-secret' } });
    await until(async () => /OK/.test((await deskPhone.command('reginfo')).data), 10_000, 'baresip registered');
  });
  after(() => stopAll());

  const tlsRig = (tls: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    callRig({
      sip: {
        account: { user: 'conc-north', password: 'kiosk-secret', domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${kam.tlsPort};transport=tls`, transport: 'tls' }] },
        targets: { emergency: [{ uri: 'sip:desk@127.0.0.1', ringTimeoutS: 10 }], information: [{ uri: 'sip:desk@127.0.0.1' }] },
        codecs: ['PCMU', 'PCMA'],
        tls,
      },
      ...extra,
    });

  const registered = (rig: CallRig) => until(() => rig.events().some((e) => e.type === 'sip.registration' && e.data.registered), 10_000, 'kiosk registered over TLS');

  /** The refusal: the event with its reason, the log line, no registration, and the fault within the start-up budget. */
  async function refused(rig: CallRig, reason: RegExp, code?: string): Promise<void> {
    const t0 = Date.now();
    const e = await until(() => rig.events().find((x) => x.type === 'sip.tls'), 8000, 'sip.tls refused event');
    assert.equal(e.data.refused, true);
    assert.equal(e.data.peer, `127.0.0.1:${kam.tlsPort}`);
    assert.match(e.data.reason, reason);
    if (code) assert.equal(e.data.code, code);
    // the log line and the journal's event are two outputs written independently: either may be seen first
    await until(() => /SIP server refused over TLS/.test(rig.kiosk.proc.output()), 3000, 'the refusal logged');
    const fault = await until(() => rig.events().find((x) => x.type === 'fault.raised' && x.data.code === 'sip-registration'), FIRST_REGISTRATION_MS + 3000, 'sip-registration fault');
    assert.match(fault.data.detail, /TLS refused/);
    assert.ok(Date.now() - t0 <= FIRST_REGISTRATION_MS + 3000);
    assert.ok(!rig.events().some((x) => x.type === 'sip.registration' && x.data.registered), 'never registered');
    // Registration retries every few seconds: the same refusal is not an event each time.
    await sleep(2500);
    assert.equal(rig.events().filter((x) => x.type === 'sip.tls').length, 1);
  }

  it('registers over TLS with the site CA (a path relative to the config file) and talks both ways with a desk through Kamailio', async () => {
    const kioskWav = makeTone(path.join(dir, 'kiosk-1k.wav'), 1000, 30);
    const capture = path.join(dir, 'out-tls.raw');
    const before = deskPhone.recordings().length;
    const rig = await tlsRig({ ca: rel(path.join(dir, 'site-ca.pem')) }, { audio: { input: { source: 'file', file: kioskWav }, output: { sink: 'file', file: capture, rate: 16000 }, volume: 1 } });
    await registered(rig);
    assert.ok(!rig.events().some((e) => e.type === 'sip.tls'), 'nothing refused');
    const heard = soxStatFull(await alarmCallToBaresipDesk(rig, deskPhone, before));
    const sent = soxStatFull(kioskWav);
    assert.ok(Math.abs(heard.freq - sent.freq) / sent.freq <= 0.05, `desk heard ${heard.freq} Hz, the kiosk sent ${sent.freq} Hz`);
    const got = soxStat(capture, { rate: 16000 });
    assert.ok(Math.abs(got.freq - 600) / 600 <= 0.05, `kiosk played ${got.freq} Hz, the desk sent 600 Hz`);
    assert.ok(got.seconds > 2, `only ${got.seconds} s of call audio`);
  });

  it('a desk calls the kiosk through Kamailio: the INVITE comes over the kiosk\'s own TLS connection, trusted as from its registrar', async () => {
    const rig = await tlsRig({ ca: rel(path.join(dir, 'site-ca.pem')) });
    await registered(rig);
    await deskPhone.command('dial', 'sip:conc-north@127.0.0.1');
    const ringing = await until(() => rig.events().find((e) => e.type === 'call.state' && e.data.incoming && e.data.state === 'ringing'), 8000, 'the kiosk rings');
    assert.equal(ringing.data.trusted, true);
    await deskPhone.command('hangup');
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.callId === ringing.data.callId && e.data.state !== 'ringing'), 8000, 'the call given up');
    await rig.kiosk.stop();
  });

  it('from the hub, live: a bad sip.tls is refused at its path; a good one moves the kiosk to TLS without a restart', async () => {
    const TOKEN = 'siptls-token-conc-north-0001';
    const hub = await FakeHub.start({ [TOKEN]: 'conc-north' });
    try {
      const c = kioskConfigFile({
        hub: { url: hub.url, token: TOKEN, heartbeatS: 1, configHealthWindowS: 3 },
        sip: { account: { user: 'conc-north', password: 'kiosk-secret', domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${kam.port}`, transport: 'udp' }] } },
      });
      copyFileSync(path.join(dir, 'site-ca.pem'), path.join(c.dir, 'site-ca.pem'));
      const kiosk = await startKioskProcess(c.file);
      await until(() => hub.online('conc-north'), 10_000, 'kiosk online at the hub');
      const doc = (tls: Record<string, unknown>) => {
        const d = structuredClone(c.config) as Record<string, any>;
        d.sip.account.registrars = [{ uri: `sip:127.0.0.1:${kam.tlsPort};transport=tls`, transport: 'tls' }];
        d.sip.tls = tls;
        return d;
      };
      const bad = await hub.pushAndWait('conc-north', 1, doc({ ca: 'no-such-ca.pem' }));
      assert.ok(bad.type === 'config-nack' && bad.code === 'invalid', JSON.stringify(bad));
      assert.match(JSON.stringify(bad), /\/sip\/tls\/ca.*no-such-ca\.pem/);
      const ack = await hub.pushAndWait('conc-north', 2, doc({ ca: 'site-ca.pem' }));
      assert.ok(ack.type === 'config-ack', JSON.stringify(ack));
      assert.deepEqual([ack.live, ack.restart], [['sip'], []]);
      await until(() => kam.proc.output().includes(`REQ REGISTER`) && /REQ REGISTER .*\(tls\) fU=conc-north/.test(kam.proc.output()), 10_000, 'REGISTER over TLS at Kamailio');
      await hub.waitEvent('config.healthy', (d) => d.version === 2);
      assert.equal(kiosk.proc.restarts, 0);
      await kiosk.stop();
    } finally {
      await hub.stop();
    }
  });

  it('refuses a server whose certificate no CA of sip.tls.ca signed: event, log line, registration fault', async () => {
    const rig = await tlsRig({ ca: rel(path.join(dir, 'other-ca.pem')) });
    await refused(rig, /not signed by a CA in sip\.tls\.ca/);
  });

  it('refuses a server the CA signed whose certificate matches no pin of sip.tls.serverPins', async () => {
    const wrong = certDigests(der(other.cert));
    const rig = await tlsRig({ ca: rel(path.join(dir, 'site-ca.pem')), serverPins: [wrong.cert, wrong.spki] });
    const own = certDigests(der(server.cert));
    await refused(rig, new RegExp(`matches no pin.*${own.cert}`), 'ERR_SIP_TLS_PIN_MISMATCH');
  });

  it('registers with a pin of the server certificate, or of its public key (colons allowed)', async () => {
    const own = certDigests(der(server.cert));
    for (const pin of [own.cert, own.spki.match(/../g)!.join(':').toUpperCase()]) {
      const rig = await tlsRig({ ca: rel(path.join(dir, 'site-ca.pem')), serverPins: [certDigests(der(other.cert)).cert, pin] });
      await registered(rig);
      assert.ok(!rig.events().some((e) => e.type === 'sip.tls'), 'nothing refused');
      await rig.kiosk.stop();
    }
  });
});

describe('intercom: SIP over TLS to a Kamailio that requires a client certificate', function () {
  this.timeout(60_000);
  let kam: Kamailio;
  let dir: string;
  before(async () => {
    dir = tmpDir('hp-siptls-client-');
    const siteCa = makeCa(dir, 'site-ca');
    const server = makeLeaf(dir, 'sip-server', siteCa, 'IP:127.0.0.1');
    makeLeaf(dir, 'kiosk', siteCa, 'IP:127.0.0.1');
    kam = await startKamailio({ users: { 'conc-north': 'kiosk-secret' }, tls: { ...server, requireClientCa: siteCa.cert } });
  });
  after(() => stopAll());

  const rig = (tls: Record<string, unknown>) =>
    callRig({
      sip: {
        account: { user: 'conc-north', password: 'kiosk-secret', domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${kam.tlsPort};transport=tls`, transport: 'tls' }] },
        tls,
      },
    });

  it('registers with the kiosk\'s own certificate (sip.tls.cert, key) shown as its client certificate', async () => {
    const r = await rig({ ca: path.join(dir, 'site-ca.pem'), cert: path.join(dir, 'kiosk.pem'), key: path.join(dir, 'kiosk.key') });
    await until(() => r.events().some((e) => e.type === 'sip.registration' && e.data.registered), 10_000, 'kiosk registered over TLS');
    assert.ok(!r.events().some((e) => e.type === 'sip.tls'), 'nothing refused');
    await r.kiosk.stop();
  });

  it('without a certificate of its own the handshake fails: a refusal with the reason, and the registration fault', async () => {
    const r = await rig({ ca: path.join(dir, 'site-ca.pem') });
    const e = await until(() => r.events().find((x) => x.type === 'sip.tls'), 8000, 'sip.tls refused event');
    assert.equal(e.data.peer, `127.0.0.1:${kam.tlsPort}`);
    await until(() => r.events().find((x) => x.type === 'fault.raised' && x.data.code === 'sip-registration'), FIRST_REGISTRATION_MS + 3000, 'sip-registration fault');
    assert.ok(!r.events().some((x) => x.type === 'sip.registration' && x.data.registered), 'never registered');
    assert.equal(e.data.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    assert.match(e.data.reason, /^the server ended the TLS handshake: tlsv13 alert certificate required .*client certificate/);
    await r.kiosk.stop();
  });
});

describe('intercom: the SIP server\'s certificate lapsing, as the kiosk sees it over TLS', function () {
  this.timeout(60_000);
  let dir: string;
  let siteCa: Pem;
  before(() => {
    dir = tmpDir('hp-siptls-expiry-');
    siteCa = makeCa(dir, 'site-ca');
  });
  after(() => stopAll());

  const rig = (kam: Kamailio) =>
    callRig({
      sip: {
        account: { user: 'conc-north', password: 'kiosk-secret', domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${kam.tlsPort};transport=tls`, transport: 'tls' }] },
        tls: { ca: path.join(dir, 'site-ca.pem') },
      },
    });
  const certFault = (r: CallRig) => r.events().filter((e) => e.type === 'fault.raised' && e.data.code === 'tls-certificate');

  it('a server certificate valid 400 days: registered, no warning', async () => {
    const server = makeLeaf(dir, 'server-long', siteCa, 'IP:127.0.0.1', 400);
    const kam = await startKamailio({ users: { 'conc-north': 'kiosk-secret' }, tls: server });
    const r = await rig(kam);
    await until(() => r.events().some((e) => e.type === 'sip.registration' && e.data.registered), 10_000, 'kiosk registered over TLS');
    await sleep(500);
    assert.deepEqual(certFault(r), []);
    await r.kiosk.stop();
    await kam.stop();
  });

  it('valid 10 days: the tls-certificate fault names the registrar, the subject and the date; cleared once the server is restarted with a renewed certificate and the kiosk reconnects', async () => {
    // The same files, rewritten for the renewal: the server's TLS config names them.
    const server = makeLeaf(dir, 'sip-server', siteCa, 'IP:127.0.0.1', 10);
    let kam = await startKamailio({ users: { 'conc-north': 'kiosk-secret' }, tls: server });
    const r = await rig(kam);
    const raised = await until(() => certFault(r)[0], 10_000, 'tls-certificate fault');
    const expires = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    assert.match(raised.data.detail, new RegExp(`^the SIP server's certificate \\(registrar sip:127\\.0\\.0\\.1:${kam.tlsPort};transport=tls\\) expires on ${expires}, in (9|10) days \\(CN=sip-server\\)`));
    await until(() => r.events().some((e) => e.type === 'sip.registration' && e.data.registered), 10_000, 'registered: the certificate is still valid');
    assert.ok(!r.events().some((e) => e.type === 'fault.cleared' && e.data.code === 'tls-certificate'));

    await kam.stop();
    makeLeaf(dir, 'sip-server', siteCa, 'IP:127.0.0.1', 400);
    kam = { ...kam, ...(await runKamailio(kam.config, kam.wsPort)) };
    await until(() => r.events().some((e) => e.type === 'fault.cleared' && e.data.code === 'tls-certificate'), 20_000, 'tls-certificate fault cleared after the kiosk reconnected');
    assert.equal(certFault(r).length, 1, 'raised once');
    await r.kiosk.stop();
    await kam.stop();
  });
});
