// The local self-tests of a supervision test: acoustic loop (a tone through
// the mixer, heard by the raw microphone), lamp and relay read-back (where the
// driver can read its outputs back: the sim driver), the screen page's
// heartbeat, storage writable, clock in step with the hub. Each returns one
// verdict step; "not tested: ..." says when the hardware cannot be checked.
import { leaseInput } from '../audio/shared-input.js';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { AudioInput, AudioOutput } from '../audio/types.js';
import type { IoDriver, OutputName } from '../io/types.js';
import { ToneDetector, fillSine, TONE_AMPLITUDE } from './tone.js';
import type { StepName, SupervisionStep } from './events.js';

export const LOOP_HZ = 1000;
const LAMPS: OutputName[] = ['lampYellow', 'lampGreen', 'lampFault', 'beacon'];

export async function timed(step: StepName, fn: () => Promise<{ ok: boolean; detail: string }>): Promise<SupervisionStep> {
  const t0 = performance.now();
  try {
    const r = await fn();
    return { step, ok: r.ok, ms: Math.round(performance.now() - t0), detail: r.detail };
  } catch (err) {
    return { step, ok: false, ms: Math.round(performance.now() - t0), detail: `error: ${(err as Error).message}` };
  }
}

/**
 * Plays LOOP_HZ for playMs into the mixer and listens for it on the microphone
 * (before echo cancelling); not heard (noise, someone talking), once more 6 dB louder.
 */
export async function acousticLoop(o: { out?: AudioOutput; mic?: AudioInput; source: string; playMs?: number; timeoutMs?: number }) {
  const first = await loopOnce(o, TONE_AMPLITUDE, '-12 dBFS');
  if (first.ok || first.detail.startsWith('not tested') || !o.out || !o.mic) return first;
  const again = await loopOnce(o, Math.round(TONE_AMPLITUDE * 2), '-6 dBFS');
  return { ok: again.ok, detail: `${again.ok ? 'heard at the second try' : 'not heard twice'}: ${first.detail}; then ${again.detail}` };
}

async function loopOnce(o: Parameters<typeof acousticLoop>[0], amplitude: number, level: string) {
  if (o.source === 'silence' || o.source === 'file') return { ok: true, detail: `not tested: the microphone source is "${o.source}" (no acoustic path)` };
  if (!o.out) return { ok: false, detail: 'no audio output (the mixer did not start)' };
  if (!o.mic) return { ok: false, detail: 'no microphone' };
  const det = new ToneDetector(LOOP_HZ);
  const off = o.mic.onFrame((f) => det.feed(f, o.mic!.rate));
  // The loop samples the raw microphone while the kiosk is idle: it holds a lease for each try and lets go
  // after, so it never stops the microphone under a call or adaptive volume (their own leases keep it).
  const lease = leaseInput(o.mic, 'supervision', true);
  try {
    await lease.ready;
    const rate = 8000;
    const playMs = o.playMs ?? 800;
    const tone = new Int16Array((rate * playMs) / 1000);
    fillSine(tone, rate, LOOP_HZ, amplitude);
    const ch = o.out.openChannel({ channel: 'announcement', rate, id: 'supervision-loop' });
    ch.write(tone);
    ch.end();
    const heard = await det.wait(o.timeoutMs ?? playMs + 1200);
    if (!heard) ch.close();
    return { ok: heard, detail: `${det.describe()} (played ${playMs} ms at ${level})` };
  } finally {
    off();
    await lease.release().catch(() => {});
  }
}

/** Toggles each lamp and reads it back (invisible: microseconds), restoring its level. */
export async function lampReadBack(driver: IoDriver | undefined, configured: (o: OutputName) => boolean) {
  if (!driver) return { ok: false, detail: 'no GPIO driver running' };
  if (driver.kind !== 'sim') return { ok: true, detail: `not tested: the ${driver.kind} driver cannot read its outputs back` };
  const bad: string[] = [];
  const checked: string[] = [];
  for (const o of LAMPS) {
    if (!configured(o)) continue;
    checked.push(o);
    const was = driver.outputState(o);
    driver.write(o, !was);
    const flipped = driver.outputState(o);
    driver.write(o, was);
    const back = driver.outputState(o);
    if (flipped === was || back !== was) bad.push(`${o} stays ${flipped ? 'on' : 'off'}`);
  }
  if (!checked.length) return { ok: true, detail: 'not tested: no lamps in the pin map' };
  return bad.length ? { ok: false, detail: `read-back failed: ${bad.join(', ')}` } : { ok: true, detail: `read back: ${checked.join(', ')}` };
}

/** The door relay must read off unless a pulse is running (it is never pulsed by a test: it opens a door). */
export async function relayReadBack(driver: IoDriver | undefined, configured: boolean, pulsing: boolean) {
  if (!driver) return { ok: false, detail: 'no GPIO driver running' };
  if (!configured) return { ok: true, detail: 'not tested: no door relay in the pin map' };
  if (driver.kind !== 'sim') return { ok: true, detail: `not tested: the ${driver.kind} driver cannot read its outputs back` };
  if (pulsing) return { ok: true, detail: 'not tested: a door pulse is running' };
  const on = driver.outputState('doorRelay');
  return on ? { ok: false, detail: 'door relay reads on while no pulse runs (stuck or welded)' } : { ok: true, detail: 'door relay reads off, as driven' };
}

/** Writes, syncs, reads back and removes a probe file in the data folder. */
export async function storageProbe(dir: string, testId: string) {
  const folder = path.join(dir, 'supervision');
  const file = path.join(folder, `probe-${testId}`);
  const text = `${testId} ${new Date().toISOString()}\n`;
  try {
    await mkdir(folder, { recursive: true });
    const fh = await open(file, 'w');
    try {
      await fh.writeFile(text);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    const back = await readFile(file, 'utf8');
    await unlink(file);
    return back === text ? { ok: true, detail: `${folder}: written, synced, read back` } : { ok: false, detail: `${folder}: read back differs from what was written` };
  } catch (err) {
    return { ok: false, detail: `data folder not writable: ${(err as Error).message}` };
  }
}
