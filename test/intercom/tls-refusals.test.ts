// A refused TLS server as an event: once per server and reason a minute, a
// new reason at once (tls-refusals.ts).
import { strict as assert } from 'node:assert';
import { pino } from 'pino';
import { Bus } from '../../src/core/bus.js';
import { tlsRefusals } from '../../src/intercom/tls-refusals.js';

describe('intercom: TLS refusal events', () => {
  it('the same refusal of the same server at most once a minute; another reason or server at once', () => {
    const bus = new Bus();
    const seen: unknown[] = [];
    bus.on('sip.tls', (e) => seen.push(e));
    let now = 0;
    const refuse = tlsRefusals(bus, pino({ level: 'silent' }), () => now);
    const a = { host: '10.0.0.5', port: 5061 };
    refuse(a, 'certificate has expired', 'CERT_HAS_EXPIRED');
    now += 2000;
    refuse(a, 'certificate has expired', 'CERT_HAS_EXPIRED');
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0], { peer: '10.0.0.5:5061', refused: true, reason: 'certificate has expired', code: 'CERT_HAS_EXPIRED' });
    refuse(a, 'no pin', 'ERR_SIP_TLS_PIN_MISMATCH');
    refuse({ host: 'fd00::5', port: 5061 }, 'certificate has expired', 'CERT_HAS_EXPIRED');
    assert.equal(seen.length, 3);
    assert.equal((seen[2] as { peer: string }).peer, '[fd00::5]:5061');
    now += 60_000;
    refuse(a, 'certificate has expired', 'CERT_HAS_EXPIRED');
    assert.equal(seen.length, 4);
  });
});
