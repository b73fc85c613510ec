// The order and pace in which the hub link tries its URLs (src/hublink/hub-urls.ts):
// primary first, then each backup in turn, round robin, one back-off step per round.
import { strict as assert } from 'node:assert';
import { HubUrls } from '../../src/hublink/hub-urls.js';
import { reconfigureHubLink } from '../../src/hublink/reconfigure.js';
import type { HubLink } from '../../src/hublink/client.js';

const A = 'ws://a.example/kiosk';
const B = 'ws://b.example/kiosk';
const C = 'ws://c.example/kiosk';

describe('hub link: URL rotation', () => {
  it('tries url first, then each backup in turn, round robin', () => {
    const u = new HubUrls(A, [B, C], () => 1);
    const tried = [u.current];
    for (let i = 0; i < 6; i++) {
      u.failed();
      tried.push(u.current);
    }
    assert.deepEqual(tried, [A, B, C, A, B, C, A]);
  });

  it('one back-off step per round over the list, doubling up to 30 s; a welcome starts again', () => {
    const u = new HubUrls(A, [B], () => 1); // no jitter: the top of each step
    const delays = Array.from({ length: 8 }, () => u.failed());
    assert.deepEqual(delays, [500, 500, 1000, 1000, 2000, 2000, 4000, 4000]);
    for (let i = 0; i < 40; i++) u.failed();
    assert.equal(u.failed(), 30_000);
    u.connected();
    assert.equal(u.failed(), 500, 'after a welcome the next drop retries at once (the next URL)');
  });

  it('jitter: between half and all of the step', () => {
    assert.equal(new HubUrls(A, [], () => 0).failed(), 250);
    assert.equal(new HubUrls(A, [], () => 1).failed(), 500);
  });

  it('a single URL: always the same one, back-off doubling per attempt as before', () => {
    const u = new HubUrls(A, undefined, () => 1);
    assert.deepEqual([u.failed(), u.failed(), u.failed()], [500, 1000, 2000]);
    assert.equal(u.current, A);
  });

  it('stays on the connected instance (no return to the primary while it works)', () => {
    const u = new HubUrls(A, [B], () => 1);
    u.failed(); // A lost
    assert.equal(u.current, B);
    u.connected();
    assert.equal(u.current, B, 'welcomed on B: it stays there');
    u.failed(); // B lost: A again, in turn
    assert.equal(u.current, A);
  });

  it('a new list keeps the instance in use when it is still listed, else starts from the primary', () => {
    const u = new HubUrls(A, [B], () => 1);
    u.failed();
    u.update(A, [C, B], B);
    assert.equal(u.current, B);
    assert.deepEqual(u.all, [A, C, B]);
    u.update(C, [A], B);
    assert.equal(u.current, C);
    u.update(A, [B]);
    assert.equal(u.current, A, 'not connected: from the primary');
  });
});

describe('hub link: a new hub section and the instance in use', () => {
  const hub = (backupUrls?: string[]) => ({ url: A, token: 'x'.repeat(16), heartbeatS: 5, offlineFaultS: 60, configHealthWindowS: 60, ...(backupUrls ? { backupUrls } : {}) });
  const holder = (on: string) => {
    const calls: string[] = [];
    const link = {
      connected: true,
      hubUrl: on,
      updateConfig: () => calls.push('update'),
      setHeartbeat: () => calls.push('heartbeat'),
      afterReply: (fn: () => void) => fn(),
      stop: () => calls.push('stop'),
    };
    const h = { link: link as unknown as HubLink, open: () => (calls.push('open'), link as unknown as HubLink) };
    return { h, calls };
  };

  it('new backup URLs that still list the instance in use: applied on the running link, no reconnect', () => {
    const { h, calls } = holder(B);
    assert.equal(reconfigureHubLink(h, hub([B]), hub([C, B])), 'applied');
    assert.deepEqual(calls, ['update']);
  });

  it('the instance in use no longer listed: a new link (from the primary)', () => {
    const { h, calls } = holder(B);
    assert.equal(reconfigureHubLink(h, hub([B]), hub([C])), 'applied');
    assert.deepEqual(calls, ['stop', 'open']);
  });

  it('the same list: unchanged', () => {
    const { h, calls } = holder(B);
    assert.equal(reconfigureHubLink(h, hub([B]), hub([B])), 'unchanged');
    assert.deepEqual(calls, []);
  });
});
