// Announcement volume by zone, time of day and ambient noise.
import { strict as assert } from 'node:assert';
import { VolumeControl } from '../../src/audio/volume.js';
import { tone } from './helpers.js';

describe('audio volume', () => {
  const at = (hhmm: string) => () => Date.parse(`2026-06-01T${hhmm}:00Z`);

  it('applies the zone and the time of day (ranges across midnight too)', () => {
    const cfg = { base: 0.8, zone: 'platforms', zones: { platforms: 0.5 }, times: [{ from: '22:00', to: '06:00', volume: 0.5 }], timezone: 'UTC' };
    assert.equal(new VolumeControl(cfg, at('12:00')).current(), 0.4);
    assert.equal(new VolumeControl(cfg, at('23:30')).current(), 0.2);
    assert.equal(new VolumeControl(cfg, at('05:59')).current(), 0.2);
    assert.equal(new VolumeControl({ ...cfg, zone: 'concourse' }, at('12:00')).current(), 0.8);
  });

  it('follows ambient noise within the configured range', () => {
    const adaptive = { min: 0.3, max: 0.9, quietDbfs: -60, loudDbfs: -20 };
    const quiet = new VolumeControl({ base: 1, zone: 'z', adaptive });
    assert.equal(quiet.current(), 0.9, 'unknown surroundings: loud enough to be heard');
    for (let i = 0; i < 400; i++) quiet.feed(new Int16Array(320).fill(1)); // near silence
    assert.ok(Math.abs(quiet.current() - 0.3) < 0.01, `quiet: ${quiet.current()}`);
    const loud = new VolumeControl({ base: 1, zone: 'z', adaptive });
    for (let i = 0; i < 400; i++) loud.feed(tone(300, 20, 16000, 0.5)); // about -9 dBFS
    assert.ok(Math.abs(loud.current() - 0.9) < 0.01, `loud: ${loud.current()}`);
    const mid = new VolumeControl({ base: 1, zone: 'z', adaptive });
    for (let i = 0; i < 400; i++) mid.feed(tone(300, 20, 16000, 0.0141)); // about -40 dBFS
    assert.ok(mid.current() > 0.5 && mid.current() < 0.7, `middle: ${mid.current()}`);
  });

  it('reads the clock (and the time-zone data of ICU) only when there are time-of-day rules', () => {
    // no rules: the time zone is never looked at, so even a bad one costs nothing (the formatter is not made)
    const plain = new VolumeControl({ base: 0.5, zone: 'z', timezone: 'Not/AZone' });
    assert.equal(plain.current(), 0.5);
    // with rules a bad time zone still fails at once, at start
    assert.throws(() => new VolumeControl({ base: 0.5, zone: 'z', timezone: 'Not/AZone', times: [{ from: '22:00', to: '06:00', volume: 0.5 }] }), RangeError);
  });
});
