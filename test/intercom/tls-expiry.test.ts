// The tls-certificate fault: a month's warning before the kiosk's own SIP
// certificate or a site CA lapses, the fault's detail says which and when.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Bus } from '../../src/core/bus.js';
import { Faults } from '../../src/health/faults.js';
import { watchTlsExpiry } from '../../src/intercom/tls-expiry.js';
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
});
