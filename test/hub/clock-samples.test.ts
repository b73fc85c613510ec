// The hub answers a kiosk's clock samples (protocol 4) at once, stamping the
// frame's arrival and the answer's departure on its own wall clock with a
// fraction of a millisecond; only after hello, like every other frame.
import { strict as assert } from 'node:assert';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { preciseNow } from '../../src/core/precise-time.js';
import { lightKiosk } from '../helpers/light-kiosk.js';
import { DEMO_TOKEN, startHub, type TestHub } from './harness.js';

describe('hub: clock samples', function () {
  this.timeout(60_000);
  let t: TestHub;
  before(async () => {
    t = await startHub();
  });
  after(() => t?.stop());

  it('answers `time` with t0 echoed and t1 <= t2 on its clock, between the kiosk\'s send and receive', async () => {
    const k = lightKiosk(t.wsUrl, 'conc-north', DEMO_TOKEN('conc-north'));
    await k.welcomed;
    assert.ok(PROTOCOL_VERSION >= 4);
    for (let i = 0; i < 5; i++) {
      const t0 = preciseNow();
      k.send({ type: 'time', t0 });
      const r = (await k.next('time')) as unknown as { t0: number; t1: number; t2: number };
      const t3 = preciseNow();
      assert.equal(r.t0, t0);
      assert.ok(r.t1 <= r.t2, `${r.t1} <= ${r.t2}`);
      // one host, one clock: the hub's stamps lie within the round trip (to the clocks' sub-ms agreement)
      assert.ok(r.t1 >= t0 - 1 && r.t2 <= t3 + 1, `${t0} ${r.t1} ${r.t2} ${t3}`);
    }
    k.ws.close();
  });
});
