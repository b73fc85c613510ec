// The availability rule (src/hub/supervision/availability.ts) on constructed histories.
import assert from 'node:assert/strict';
import { availability, availableMs, type KioskHistory } from '../../src/hub/supervision/availability.js';

const H = 3600_000;
const day = Date.UTC(2026, 10, 1);
const base = (o: Partial<KioskHistory> = {}): KioskHistory => ({
  kiosk: 'k1',
  zone: 'z',
  enrolledAt: day - 10 * H,
  intervalS: 72 * 3600,
  graceS: 3600,
  links: [{ at: day - 10 * H, online: true }],
  tests: [],
  faults: [],
  ...o,
});

describe('supervision at the hub: the availability rule', () => {
  it('online all day, no fault, no test yet but not overdue: 100 %', () => {
    assert.deepEqual(availableMs(base(), day, day + 24 * H), { available: 24 * H, measured: 24 * H });
  });

  it('offline, a blocking fault, a failed test each take their time off; non-blocking faults do not', () => {
    const h = base({
      links: [{ at: day - H, online: true }, { at: day + 1 * H, online: false }, { at: day + 2 * H, online: true }],
      faults: [
        { at: day + 5 * H, type: 'fault.raised', code: 'sip-registration' },
        { at: day + 8 * H, type: 'fault.cleared', code: 'sip-registration' },
        { at: day + 9 * H, type: 'fault.raised', code: 'tamper' },
        { at: day + 9 * H, type: 'fault.raised', code: 'screen' },
      ],
      tests: [
        { at: day + 12 * H, passed: false, failedStep: 'audio-in' },
        { at: day + 14 * H, passed: true, failedStep: null },
        { at: day + 15 * H, passed: false, failedStep: 'interrupted' },
      ],
    });
    // off: 1 h offline + 3 h fault + 2 h failed test = 6 h; the interrupted test is no verdict.
    assert.equal(availableMs(h, day, day + 24 * H).available, 18 * H);
  });

  it('overdue from interval + grace after the last pass (or enrolment)', () => {
    const h = base({ enrolledAt: day - 20 * H, intervalS: 10 * 3600, graceS: 3600, links: [{ at: day - 20 * H, online: true }], tests: [{ at: day - 5 * H, passed: true, failedStep: null }] });
    // last pass at -5 h: overdue from +6 h on.
    assert.equal(availableMs(h, day, day + 24 * H).available, 6 * H);
    const never = base({ enrolledAt: day - 5 * H, intervalS: 10 * 3600, graceS: 3600, links: [{ at: day - 5 * H, online: true }] });
    assert.equal(availableMs(never, day, day + 24 * H).available, 6 * H);
  });

  it('measures from enrolment and up to now; zones sum their kiosks', () => {
    const a = base({ kiosk: 'a', enrolledAt: day + 12 * H, links: [{ at: day + 12 * H, online: true }] });
    const b = base({ kiosk: 'b', links: [] }); // never online
    const r = availability([a, b], day, day + 24 * H, day + 18 * H);
    const ka = r.kiosks.find((x) => x.kiosk === 'a')!;
    assert.deepEqual([ka.availableS, ka.measuredS], [6 * 3600, 6 * 3600]);
    const kb = r.kiosks.find((x) => x.kiosk === 'b')!;
    assert.deepEqual([kb.availableS, kb.measuredS, kb.share], [0, 18 * 3600, 0]);
    assert.deepEqual([r.zones[0]!.availableS, r.zones[0]!.measuredS], [6 * 3600, 24 * 3600]);
    assert.equal(r.zones[0]!.share, 0.25);
  });
});
