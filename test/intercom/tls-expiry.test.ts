// The tls-certificate fault: a month's warning before the kiosk's own SIP
// certificate or a site CA lapses, the fault's detail says which and when.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Bus } from '../../src/core/bus.js';
import { Faults } from '../../src/health/faults.js';
import { watchTlsExpiry } from '../../src/intercom/tls-expiry.js';
import { ServerCertificates } from '../../src/intercom/tls-server-certs.js';
import type { KioskConfig } from '../../src/config/schema/kiosk.js';
import { makeCa, makeLeaf } from '../helpers/tls-certs.js';

describe('TLS certificate expiry', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-tls-expiry-'));
  const ca = makeCa(dir, 'site-ca');
  makeCa(dir, 'short-ca', 20);
  makeLeaf(dir, 'kiosk-soon', ca, 'IP:127.0.0.1', 10);
  makeLeaf(dir, 'kiosk-fine', ca, 'IP:127.0.0.1');
  makeLeaf(dir, 'kiosk-expired', ca, 'IP:127.0.0.1', -1);
  makeLeaf(dir, 'server-soon', ca, 'IP:127.0.0.1', 10);
  makeLeaf(dir, 'server-20', ca, 'IP:127.0.0.1', 20);
  makeLeaf(dir, 'server-40', ca, 'IP:127.0.0.1', 40);
  makeLeaf(dir, 'server-fine', ca, 'IP:127.0.0.1');
  const der = (name: string) => Buffer.from(readFileSync(path.join(dir, `${name}.pem`), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const REGISTRAR = 'sip:127.0.0.1:5061;transport=tls';
  const registrar = { host: '127.0.0.1', port: 5061 };

  const config = (tls: Record<string, unknown> | undefined, transport = 'tls') =>
    ({ sip: { transport, account: { registrars: [] }, tls: tls && { serverPins: [], ...tls } } }) as unknown as KioskConfig;
  const watch = (c: KioskConfig) => {
    const faults = new Faults(new Bus());
    const stop = watchTlsExpiry({ faults, config: () => c, configDir: dir });
    stop();
    return faults.list().find((f) => f.code === 'tls-certificate');
  };

  it('raises the fault when the kiosk certificate lapses within 30 days, naming the file and the date', () => {
    const f = watch(config({ ca: 'site-ca.pem', cert: 'kiosk-soon.pem', key: 'kiosk-soon.key' }));
    assert.ok(f, 'fault raised');
    assert.match(f.detail, /the kiosk certificate \(kiosk-soon\.pem\) expires on \d{4}-\d\d-\d\d, in (9|10) days/);
  });

  it('says "expired" for a certificate past its date', () => {
    const f = watch(config({ ca: 'site-ca.pem', cert: 'kiosk-expired.pem', key: 'kiosk-expired.key' }));
    assert.match(f?.detail ?? '', /the kiosk certificate \(kiosk-expired\.pem\) expired on .*SIP over TLS fails until it is renewed/);
  });

  it('watches the site CAs too, and the one that lapses first is named', () => {
    const f = watch(config({ ca: ['site-ca.pem', 'short-ca.pem'] }));
    assert.match(f?.detail ?? '', /the site CA \(short-ca\.pem\) expires on .* in (19|20) days .*CN=short-ca/);
  });

  it('no fault for certificates valid longer, for a kiosk not on TLS, or without sip.tls', () => {
    assert.equal(watch(config({ ca: 'site-ca.pem', cert: 'kiosk-fine.pem', key: 'kiosk-fine.key' })), undefined);
    assert.equal(watch(config({ ca: 'short-ca.pem' }, 'udp')), undefined);
    assert.equal(watch(config(undefined)), undefined);
  });

  it('clears the fault once the certificate is renewed (the next check)', () => {
    let c = config({ cert: 'kiosk-soon.pem', key: 'kiosk-soon.key' });
    const faults = new Faults(new Bus());
    let now = Date.now();
    const stop = watchTlsExpiry({ faults, config: () => c, configDir: dir, now: () => now });
    assert.ok(faults.list().some((f) => f.code === 'tls-certificate'));
    stop();
    c = config({ cert: 'kiosk-fine.pem', key: 'kiosk-fine.key' });
    now += 1000;
    watchTlsExpiry({ faults, config: () => c, configDir: dir, now: () => now })();
    assert.ok(!faults.list().some((f) => f.code === 'tls-certificate'));
  });

  describe('the SIP server\'s certificate, as seen at the kiosk\'s TLS connections', () => {
    const tlsKiosk = (tls: Record<string, unknown> = { ca: 'site-ca.pem' }, transport = 'tls') =>
      ({ sip: { transport, account: { registrars: transport === 'tls' ? [{ uri: REGISTRAR, transport: 'tls' }] : [] }, tls: { serverPins: [], ...tls } } }) as unknown as KioskConfig;
    const fault = (faults: Faults) => faults.list().find((f) => f.code === 'tls-certificate');

    it('a server certificate that lapses within 30 days raises the fault at the connection, naming the registrar, the subject and the date', () => {
      const faults = new Faults(new Bus());
      const servers = new ServerCertificates();
      const stop = watchTlsExpiry({ faults, config: () => tlsKiosk(), configDir: dir, servers });
      assert.equal(fault(faults), undefined);
      servers.record(registrar, der('server-soon'));
      stop();
      assert.match(fault(faults)?.detail ?? '', /^the SIP server's certificate \(registrar sip:127\.0\.0\.1:5061;transport=tls\) expires on \d{4}-\d\d-\d\d, in (9|10) days \(CN=server-soon\): the SIP server needs a renewed certificate/);
    });

    it('a server reached by address only (no registrar of that address) is named by its address', () => {
      const faults = new Faults(new Bus());
      const servers = new ServerCertificates();
      const stop = watchTlsExpiry({ faults, config: () => tlsKiosk(), configDir: dir, servers });
      servers.record({ host: '::1', port: 5071 }, der('server-soon'));
      stop();
      assert.match(fault(faults)?.detail ?? '', /^the SIP server's certificate \(\[::1\]:5071\) expires on/);
    });

    it('the earliest lapse wins, between the kiosk\'s files and the servers', () => {
      const faults = new Faults(new Bus());
      const servers = new ServerCertificates();
      let c = tlsKiosk({ ca: 'site-ca.pem', cert: 'kiosk-soon.pem', key: 'kiosk-soon.key' });
      const stop = watchTlsExpiry({ faults, config: () => c, configDir: dir, servers });
      servers.record(registrar, der('server-20'));
      assert.match(fault(faults)?.detail ?? '', /^the kiosk certificate \(kiosk-soon\.pem\)/);
      c = tlsKiosk({ ca: 'site-ca.pem', cert: 'kiosk-fine.pem', key: 'kiosk-fine.key' });
      servers.record({ host: '127.0.0.2', port: 5061 }, der('server-fine'));
      stop();
      assert.match(fault(faults)?.detail ?? '', /^the SIP server's certificate \(registrar .*\) expires on .* in (19|20) days \(CN=server-20\)/);
    });

    it('a later connection showing a renewed certificate clears it', () => {
      const faults = new Faults(new Bus());
      const servers = new ServerCertificates();
      const stop = watchTlsExpiry({ faults, config: () => tlsKiosk(), configDir: dir, servers });
      servers.record(registrar, der('server-soon'));
      assert.ok(fault(faults));
      servers.record(registrar, der('server-fine'));
      assert.equal(fault(faults), undefined);
      stop();
    });

    it('counts only while the kiosk uses TLS; forgotten with the user agent (clear)', () => {
      const faults = new Faults(new Bus());
      const servers = new ServerCertificates();
      servers.record(registrar, der('server-soon'));
      watchTlsExpiry({ faults, config: () => tlsKiosk({}, 'udp'), configDir: dir, servers })();
      assert.equal(fault(faults), undefined);
      watchTlsExpiry({ faults, config: () => tlsKiosk(), configDir: dir, servers })();
      assert.ok(fault(faults));
      servers.clear();
      watchTlsExpiry({ faults, config: () => tlsKiosk(), configDir: dir, servers })();
      assert.equal(fault(faults), undefined);
    });

    it('the periodic check warns as the date approaches on a connection that stays open, and says "expired" once past', async () => {
      const faults = new Faults(new Bus());
      const servers = new ServerCertificates();
      let now = Date.now();
      const stop = watchTlsExpiry({ faults, config: () => tlsKiosk(), configDir: dir, servers, now: () => now, everyMs: 20 });
      servers.record(registrar, der('server-40'));
      assert.equal(fault(faults), undefined, '40 days left: no warning yet');
      now += 15 * 86_400_000;
      await new Promise((r) => setTimeout(r, 100));
      assert.match(fault(faults)?.detail ?? '', /expires on .* in (24|25) days \(CN=server-40\)/);
      now += 30 * 86_400_000;
      await new Promise((r) => setTimeout(r, 100));
      stop();
      assert.match(fault(faults)?.detail ?? '', /^the SIP server's certificate \(registrar .*\) expired on .*\(CN=server-40\): SIP over TLS fails until it is renewed/);
    });
  });
});
