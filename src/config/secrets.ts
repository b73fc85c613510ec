// Secrets inside a kiosk config (its hub token, SIP digest passwords) stay on
// the kiosk: the hub strips them from every document it stores, returns or
// pushes, and the kiosk keeps its own when it applies a pushed config.
const SECRET_KEYS = new Set(['token', 'password', 'secret']);

type Json = unknown;

export function isSecretKey(k: string): boolean {
  return SECRET_KEYS.has(k);
}

/** A copy without any secret key, at any depth. */
export function stripSecrets<T extends Json>(doc: T): T {
  if (Array.isArray(doc)) return doc.map(stripSecrets) as T;
  if (doc && typeof doc === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc)) if (!SECRET_KEYS.has(k)) out[k] = stripSecrets(v);
    return out as T;
  }
  return doc;
}

/** True if the document holds a secret anywhere (a test and a guard for API replies). */
export function hasSecrets(doc: Json): boolean {
  if (Array.isArray(doc)) return doc.some(hasSecrets);
  if (doc && typeof doc === 'object') return Object.entries(doc).some(([k, v]) => SECRET_KEYS.has(k) || hasSecrets(v));
  return false;
}

/**
 * The kiosk side: secrets the pushed document lacks are taken from the
 * current config at the same place (same object path, same array index).
 */
export function keepSecrets<T extends Json>(pushed: T, current: Json): T {
  if (Array.isArray(pushed) && Array.isArray(current)) return pushed.map((v, i) => keepSecrets(v, current[i])) as T;
  if (pushed && typeof pushed === 'object' && !Array.isArray(pushed) && current && typeof current === 'object' && !Array.isArray(current)) {
    const out: Record<string, unknown> = { ...(pushed as Record<string, unknown>) };
    for (const [k, v] of Object.entries(current as Record<string, unknown>)) {
      if (SECRET_KEYS.has(k) && !(k in out)) out[k] = v;
      else if (k in out) out[k] = keepSecrets(out[k], v);
    }
    return out as T;
  }
  return pushed;
}
