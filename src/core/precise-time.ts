// Wall-clock time (ms since the epoch, like Date.now()) with a fraction: the
// monotonic clock plus its distance to the wall clock. Date.now() counts whole
// milliseconds, too coarse for clock samples whose round trips are well under
// one on a LAN. Cheap enough for every frame: no busy wait.
//
// The distance is learnt from the readings themselves: Date.now() read between
// two monotonic readings p1 and p2 gives d - p2 <= true distance <
// d - p2 + 1 + (p2 - p1), so the largest d - p2 seen is the best estimate (it
// reaches the truth whenever a reading falls just after the millisecond
// ticks). A step of the wall clock (set by hand, NTP stepping) moves the
// distance by more than a few milliseconds: the estimate starts again.
let dist: number | undefined;

function sample(): { c: number; spread: number } {
  const p1 = performance.now();
  const d = Date.now();
  const p2 = performance.now();
  return { c: d - (performance.timeOrigin + p2), spread: p2 - p1 };
}

export function preciseNow(): number {
  const s = sample();
  if (dist === undefined) {
    // First use: read until Date.now() ticks over (at most about 1 ms, once per process).
    const first = Date.now();
    const limit = performance.now() + 3;
    let best = s.c;
    while (Date.now() === first && performance.now() < limit);
    for (let i = 0; i < 3; i++) {
      const x = sample();
      if (x.spread < 0.05) best = Math.max(best, x.c);
    }
    dist = best;
  } else if (s.c > dist + 3 || (s.c < dist - 3 && s.spread < 0.1)) dist = s.c; // the wall clock was stepped
  else if (s.c > dist) dist = s.c;
  return performance.timeOrigin + performance.now() + dist;
}
