import assert from 'node:assert/strict';
import path from 'node:path';
import { WayMap } from '../../src/display/wayfinding/graph.js';
import { EXAMPLE } from '../helpers/processes.js';

describe('wayfinding graph (example site)', () => {
  const map = WayMap.load(path.join(EXAMPLE, 'wayfinding.json'));

  it('shortest route to platform 2 uses the stairs; the step-free one avoids every stair edge', () => {
    const fast = map.route('n-north', 'platform-2')!;
    assert.ok(fast.steps.some((s) => s.stairs), 'shortest route takes stairs');
    const free = map.route('n-north', 'platform-2', { stepFree: true })!;
    assert.equal(free.steps.filter((s) => s.stairs).length, 0);
    assert.ok(free.nodes.includes('lift'), 'step-free route goes by the lift');
    assert.ok(free.metres > fast.metres);
  });

  it('nearest exit skips blocked exits', () => {
    assert.equal(map.nearestExit('n-north')!.to, 'exit-north');
    assert.equal(map.nearestExit('n-north', ['exit-north'])!.to, 'exit-west');
    assert.equal(map.nearestExit('n-north', ['exit-north', 'exit-west', 'exit-south']), null);
  });

  it('rejects a graph with an edge to an unknown node, and an unknown destination', () => {
    assert.throws(() => new WayMap({ ...map.data, edges: [{ from: 'n-north', to: 'nowhere' }] }), /unknown node "nowhere"/);
    assert.throws(() => map.route('n-north', 'moon'), /unknown destination/);
  });
});
