// Every frame received is parsed and validated against the schemas of
// messages.ts before anything acts on it, with validators compiled ahead of
// time (src/validators): a kiosk does not load the schemas themselves.
import { validator, errorsText, type Validate } from '../validators/index.js';
import { MAX_FRAME_BYTES } from './constants.js';
import type { KioskToHub, HubToKiosk } from './messages.js';

export type Parsed<T> = { ok: true; msg: T } | { ok: false; error: string };

function parse<T>(raw: string | Buffer, check: Validate<T>, text?: string): Parsed<T> {
  if (raw.length > MAX_FRAME_BYTES) return { ok: false, error: 'frame too large' };
  let data: unknown;
  try {
    data = JSON.parse(text ?? raw.toString());
  } catch {
    return { ok: false, error: 'frame is not JSON' };
  }
  if (!check(data)) {
    const t = (data as { type?: unknown })?.type;
    return { ok: false, error: `invalid ${typeof t === 'string' ? `"${t.slice(0, 32)}"` : 'untyped'} message: ${errorsText(check.errors)}` };
  }
  return { ok: true, msg: data };
}

/**
 * A command's answer without an error text, as every kiosk writes it (JSON.stringify of { type, id, ok }), the frame
 * a fan-out brings by the thousand. Matched by this exact pattern it is the message JSON.parse and the schema
 * would give: an id of at most 128 characters (code points, as the schema counts them) with no quote, backslash
 * or control character, which JSON can only write escaped. Any other frame, this one with a space, another
 * key order or an escape included, takes the full path: nothing refused there is accepted here.
 */
const OK_RESULT = /^\{"type":"command-result","id":"([^"\\\u0000-\u001f]{0,128})","ok":(true|false)\}$/u;

export function parseFromKiosk(raw: string | Buffer): Parsed<KioskToHub> {
  const text = raw.length <= 300 ? raw.toString() : undefined;
  const m = text === undefined ? null : OK_RESULT.exec(text);
  if (m) return { ok: true, msg: { type: 'command-result', id: m[1]!, ok: m[2] === 'true' } };
  return parse(raw, validator<KioskToHub>('kiosk-to-hub'), text);
}
export const parseFromHub = (raw: string | Buffer) => parse(raw, validator<HubToKiosk>('hub-to-kiosk'));
