// Availability: the share of time a kiosk would have answered an alarm, per
// kiosk and per zone, per day (UTC). The rule (docs/supervision.md):
//
//   a kiosk counts as available at instant t (from its enrolment on) when all hold:
//   1. online: its link to the hub was up (the last link change at or before t says online);
//   2. no blocking fault open: every kiosk fault except those that do not stop an
//      alarm (NON_BLOCKING: tamper, power, screen, clock, store/storage, config,
//      echo-canceller, and the kiosk's own hub-link: rule 1 covers the link) — a fault is open
//      from its fault.raised event to its fault.cleared event;
//   3. its last test call verdict at or before t passed (none yet counts as passed;
//      a test ended by a real press, failedStep 'interrupted', is no verdict);
//   4. not overdue: t <= (last passed test, else enrolment) + interval + grace.
//
//   share of a day = available time / measured time, where the measured time is
//   the part of the day after enrolment and before now. A zone's share is the sum
//   of its kiosks' available time over the sum of their measured time.
//
// Pure functions over the histories, so the rule is tested on a constructed history.

/** Faults that do not stop a kiosk answering an alarm (the emergency path needs no screen, disk or exact clock). */
export const NON_BLOCKING = new Set(['tamper', 'power', 'screen', 'clock', 'store', 'storage', 'config', 'echo-canceller', 'hub-link', 'tls-certificate']);
export const DAY_MS = 86_400_000;

export interface KioskHistory {
  kiosk: string;
  zone: string;
  enrolledAt: number;
  intervalS: number;
  graceS: number;
  /** link changes, oldest first (may start before the range) */
  links: { at: number; online: boolean }[];
  /** test verdicts, oldest first (may start before the range) */
  tests: { at: number; passed: boolean; failedStep: string | null }[];
  /** fault events, oldest first, from the beginning */
  faults: { at: number; type: string; code: string }[];
}

export interface DayFigure {
  day: string;
  kiosk?: string;
  zone: string;
  availableS: number;
  measuredS: number;
  /** available / measured (null when nothing was measured) */
  share: number | null;
}

type Point = { at: number; kind: 'link'; online: boolean } | { at: number; kind: 'test'; passed: boolean; failedStep: string | null } | { at: number; kind: 'fault'; type: string; code: string };

/** Available milliseconds of one kiosk in [from, to). */
export function availableMs(h: KioskHistory, from: number, to: number): { available: number; measured: number } {
  const start = Math.max(from, h.enrolledAt);
  if (to <= start) return { available: 0, measured: 0 };
  const points: Point[] = [
    ...h.links.map((l): Point => ({ at: l.at, kind: 'link', online: l.online })),
    ...h.tests.map((t): Point => ({ at: t.at, kind: 'test', passed: t.passed, failedStep: t.failedStep })),
    ...h.faults.map((f): Point => ({ at: f.at, kind: 'fault', type: f.type, code: f.code })),
  ].sort((a, b) => a.at - b.at);
  let online = false;
  let testOk = true;
  let lastPassed = h.enrolledAt;
  const open = new Set<string>();
  const limitMs = (h.intervalS + h.graceS) * 1000;
  const apply = (p: Point) => {
    if (p.kind === 'link') online = p.online;
    else if (p.kind === 'test') {
      if (!p.passed && p.failedStep === 'interrupted') return;
      testOk = p.passed;
      if (p.passed) lastPassed = Math.max(lastPassed, p.at);
    } else if (p.type === 'fault.raised') open.add(p.code);
    else if (p.type === 'fault.cleared') open.delete(p.code);
  };
  let i = 0;
  while (i < points.length && points[i]!.at <= start) apply(points[i++]!);
  let available = 0;
  let t = start;
  while (t < to) {
    const next = Math.min(to, i < points.length ? points[i]!.at : to);
    const blocking = [...open].some((c) => !NON_BLOCKING.has(c));
    if (online && testOk && !blocking) {
      // Overdue from the deadline on, inside this segment.
      const deadline = lastPassed + limitMs;
      available += Math.max(0, Math.min(next, deadline) - t);
    }
    t = next;
    while (i < points.length && points[i]!.at <= t) apply(points[i++]!);
  }
  return { available, measured: to - start };
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Per kiosk and per zone, per UTC day of [from, to) (whole days), cut at `now`. */
export function availability(histories: KioskHistory[], from: number, to: number, now = Date.now()): { kiosks: DayFigure[]; zones: DayFigure[] } {
  const kiosks: DayFigure[] = [];
  const zones = new Map<string, DayFigure>();
  for (let d = Math.floor(from / DAY_MS) * DAY_MS; d < to; d += DAY_MS) {
    const end = Math.min(d + DAY_MS, now);
    for (const h of histories) {
      const r = end > d ? availableMs(h, d, end) : { available: 0, measured: 0 };
      const day = dayOf(d);
      kiosks.push({ day, kiosk: h.kiosk, zone: h.zone, availableS: Math.round(r.available / 1000), measuredS: Math.round(r.measured / 1000), share: r.measured ? r.available / r.measured : null });
      const key = `${day} ${h.zone}`;
      const z = zones.get(key) ?? { day, zone: h.zone, availableS: 0, measuredS: 0, share: null };
      z.availableS += r.available / 1000;
      z.measuredS += r.measured / 1000;
      zones.set(key, z);
    }
  }
  const zoneList = [...zones.values()].map((z) => ({ ...z, availableS: Math.round(z.availableS), measuredS: Math.round(z.measuredS), share: z.measuredS ? z.availableS / z.measuredS : null }));
  return { kiosks, zones: zoneList };
}
