// When the next scheduled test runs. A kiosk that never tested picks a random
// point of its first interval (a fleet switched on together spreads over the
// whole interval instead of calling the answerer at once); after that, the
// last test + interval, moved uniformly by up to jitter either way. An overdue
// test (the kiosk was off) runs within a minute, at a random point of it.
export function nextTestAt(o: { now: number; lastTestAt?: number; intervalS: number; jitterS: number; random?: () => number }): number {
  const rnd = o.random ?? Math.random;
  const interval = o.intervalS * 1000;
  const jitter = Math.min(o.jitterS * 1000, interval / 2);
  if (o.lastTestAt === undefined) return o.now + rnd() * interval;
  const at = o.lastTestAt + interval + (rnd() * 2 - 1) * jitter;
  return at >= o.now ? at : o.now + rnd() * Math.min(60_000, interval);
}
