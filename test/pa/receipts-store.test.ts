// PA receipts in the hub's storage: a state only moves forward, and the time
// of each step is kept even when the kiosk's answers are stored out of order
// or folded into one batch (a loaded hub writes results in batches).
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { openStorage, type HubStorage } from '../../src/hub/storage/index.js';
import { tmpDir } from '../helpers/tmp.js';

describe('PA receipts in storage', function () {
  this.timeout(60_000);
  let storage: HubStorage;
  before(async () => {
    storage = await openStorage({ dataDir: tmpDir('hp-receipts-'), log: pino({ level: 'silent' }) });
  });
  after(async () => storage?.close());

  const action = async (id: string, kiosks: string[]) =>
    storage.pa.createAction(
      { id, kind: 'message', playId: null, messageId: null, messageVersion: null, text: null, zones: ['concourse'], channel: 'announcement', drill: false, incidentId: null, createdBy: 'test' },
      kiosks.map((kiosk) => ({ kiosk, state: 'pending' as const })),
    );

  it('started and finished in one batch: finished, with its start time', async () => {
    await action('a1', ['k1']);
    await storage.pa.applyReceipts([
      { action: 'a1', kiosk: 'k1', state: 'delivered' },
      { action: 'a1', kiosk: 'k1', state: 'started' },
      { action: 'a1', kiosk: 'k1', state: 'finished' },
    ]);
    const [r] = await storage.pa.receipts('a1');
    assert.equal(r!.state, 'finished');
    assert.ok(r!.deliveredAt && r!.startedAt && r!.endedAt, JSON.stringify(r));
  });

  it('finished stored before started: stays finished and gains its start time; a later started changes nothing else', async () => {
    await action('a2', ['k1', 'k2']);
    assert.deepEqual(await storage.pa.applyReceipts([{ action: 'a2', kiosk: 'k1', state: 'finished' }]), ['a2']);
    const [before] = await storage.pa.receipts('a2');
    assert.equal(before!.startedAt, null);
    assert.deepEqual(await storage.pa.applyReceipts([{ action: 'a2', kiosk: 'k1', state: 'started' }]), ['a2']);
    const [after] = await storage.pa.receipts('a2');
    assert.equal(after!.state, 'finished');
    assert.ok(after!.startedAt, JSON.stringify(after));
    assert.equal(after!.endedAt, before!.endedAt);
    // Once set, a repeated started is no change at all.
    assert.deepEqual(await storage.pa.applyReceipts([{ action: 'a2', kiosk: 'k1', state: 'started' }]), []);
    // The other kiosk's receipt was not touched.
    const other = (await storage.pa.receipts('a2')).find((r) => r.kiosk === 'k2')!;
    assert.equal(other.state, 'pending');
  });
});
