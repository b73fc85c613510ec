// The schedule's arithmetic: a fleet that starts together spreads its first
// tests over the whole interval; later tests stay within interval ± jitter.
import { strict as assert } from 'node:assert';
import { nextTestAt } from '../../src/supervision/schedule.js';
import { supervisionConfig } from '../../src/config/schema/supervision.js';

describe('supervision schedule', () => {
  const H72 = 259_200;

  it('defaults: every 72 h, jitter 10 % of the interval', () => {
    const c = supervisionConfig(undefined);
    assert.equal(c.intervalS, H72);
    assert.equal(c.jitterS, 25_920);
    assert.equal(supervisionConfig({ intervalS: 100 }).jitterS, 10);
  });

  it('1,000 new kiosks switched on at once spread their first test over the whole first interval', () => {
    const now = Date.parse('2026-11-30T00:00:00Z');
    const at = Array.from({ length: 1000 }, () => nextTestAt({ now, intervalS: H72, jitterS: 25_920 }) - now);
    assert.ok(at.every((d) => d >= 0 && d < H72 * 1000));
    // Each of the 72 hours gets some, none gets a flood (expected ~14 per hour).
    const perHour = new Array(72).fill(0);
    for (const d of at) perHour[Math.floor(d / 3_600_000)]++;
    assert.ok(Math.max(...perHour) < 40, `busiest hour ${Math.max(...perHour)}`);
    assert.ok(perHour.filter((n) => n === 0).length < 3);
  });

  it('after a test: interval ± jitter; overdue (the kiosk was off): within a minute', () => {
    const now = 1e12;
    for (const r of [0, 0.5, 0.999]) {
      const d = nextTestAt({ now, lastTestAt: now, intervalS: 100, jitterS: 10, random: () => r }) - now;
      assert.ok(d >= 90_000 && d <= 110_000, String(d));
    }
    const overdue = nextTestAt({ now, lastTestAt: now - 10 * 86_400_000, intervalS: H72, jitterS: 0, random: () => 0.5 }) - now;
    assert.equal(overdue, 30_000);
    // Jitter never exceeds half the interval (no test right after another).
    assert.ok(nextTestAt({ now, lastTestAt: now, intervalS: 10, jitterS: 100, random: () => 0 }) - now >= 5000);
  });
});
