// Validation of a PA command before anything is changed: bad input gets a
// clear error naming the field, and nothing starts playing. The schema is in
// pa-play-schema.ts; its validator is compiled ahead of time (src/validators).
import { validator } from '../validators/index.js';
import type { PaPlay } from './events.js';

export function checkPaPlay(x: unknown): { ok: true; play: PaPlay } | { ok: false; error: string } {
  const check = validator<PaPlay>('pa-play');
  if (!check(x)) {
    const errs = (check.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'is invalid'}`);
    return { ok: false, error: `invalid PA command: ${errs.join('; ')}` };
  }
  const p = x;
  if (!p.message === !p.clip) return { ok: false, error: 'invalid PA command: give exactly one of "message" or "clip"' };
  return { ok: true, play: p };
}
