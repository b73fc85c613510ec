// Every frame received is parsed and validated against the schemas of
// messages.ts before anything acts on it, with validators compiled ahead of
// time (src/validators): a kiosk does not load the schemas themselves.
import { validator, errorsText, type Validate } from '../validators/index.js';
import { MAX_FRAME_BYTES } from './constants.js';
import type { KioskToHub, HubToKiosk } from './messages.js';

export type Parsed<T> = { ok: true; msg: T } | { ok: false; error: string };

function parse<T>(raw: string | Buffer, check: Validate<T>): Parsed<T> {
  if (raw.length > MAX_FRAME_BYTES) return { ok: false, error: 'frame too large' };
  let data: unknown;
  try {
    data = JSON.parse(raw.toString());
  } catch {
    return { ok: false, error: 'frame is not JSON' };
  }
  if (!check(data)) {
    const t = (data as { type?: unknown })?.type;
    return { ok: false, error: `invalid ${typeof t === 'string' ? `"${t.slice(0, 32)}"` : 'untyped'} message: ${errorsText(check.errors)}` };
  }
  return { ok: true, msg: data };
}

export const parseFromKiosk = (raw: string | Buffer) => parse(raw, validator<KioskToHub>('kiosk-to-hub'));
export const parseFromHub = (raw: string | Buffer) => parse(raw, validator<HubToKiosk>('hub-to-kiosk'));
