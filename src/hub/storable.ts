// What PostgreSQL can store: text and jsonb hold no NUL character and no lone
// UTF-16 surrogate (jsonb refuses the \udXXX escape JSON.stringify writes for
// one), and JSON numbers past 2^53 are not exact anyway. Applied to every
// message from a kiosk and every console request body and query before
// anything reads them, so hostile input is stored as near as it can be, never
// failing a whole batch.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function storable<T>(v: T): T {
  if (typeof v === 'string') {
    let s: string = v;
    if (s.includes('\u0000')) s = s.replace(/\u0000/g, '');
    if (LONE_SURROGATE.test(s)) s = s.replace(LONE_SURROGATE, '\uFFFD');
    LONE_SURROGATE.lastIndex = 0;
    return s as T;
  }
  if (typeof v === 'number') return (Number.isFinite(v) ? Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, v)) : 0) as T;
  if (Array.isArray(v)) return v.map(storable) as T;
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[storable(k)] = storable(x);
    return out as T;
  }
  return v;
}
