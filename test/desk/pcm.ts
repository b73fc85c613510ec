// Reading what a kiosk played (16-bit mono raw capture) in short windows:
// the level of each, to find where a call was silent (mute, hold).
import { readFileSync } from 'node:fs';

/** RMS (0..1) of each `ms` window of a raw s16le mono file. */
export function windowRms(file: string, rate: number, ms = 100): number[] {
  const buf = readFileSync(file);
  const n = Math.floor((rate * ms) / 1000);
  const out: number[] = [];
  for (let start = 0; start + n * 2 <= buf.length; start += n * 2) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = buf.readInt16LE(start + i * 2) / 32768;
      sum += x * x;
    }
    out.push(Math.sqrt(sum / n));
  }
  return out;
}

/** Runs of windows below `quiet` that lie between loud windows (above `loud`), as window counts. */
export function quietGaps(levels: number[], quiet = 0.005, loud = 0.05): number[] {
  const first = levels.findIndex((l) => l > loud);
  let last = levels.length - 1;
  while (last >= 0 && !(levels[last]! > loud)) last--;
  const gaps: number[] = [];
  let run = 0;
  for (let i = first; i <= last && first >= 0; i++) {
    if (levels[i]! < quiet) run++;
    else {
      if (run > 0) gaps.push(run);
      run = 0;
    }
  }
  return gaps;
}
