// Comparing kiosk configs: which top-level sections changed (each capability
// is told only about its own), and a fingerprint that says whether two
// documents for the same version are the same document.
import { createHash } from 'node:crypto';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { ConfigSection } from '../core/context.js';

/** Keys that are bookkeeping, not configuration. */
const IGNORED = new Set(['$schema', 'configVersion']);

/** JSON with object keys sorted at every level: equal values give equal text whatever the key order. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.keys(x as object).sort().map((k) => [k, (x as Record<string, unknown>)[k]]))
      : x,
  ) ?? 'null';
}

/** Top-level sections whose value differs (a section present in only one counts). */
export function changedSections(prev: KioskConfig, next: KioskConfig): ConfigSection[] {
  const keys = new Set([...Object.keys(prev), ...Object.keys(next)]);
  const out: ConfigSection[] = [];
  for (const k of keys) {
    if (IGNORED.has(k)) continue;
    if (canonical((prev as Record<string, unknown>)[k]) !== canonical((next as Record<string, unknown>)[k])) out.push(k as ConfigSection);
  }
  return out;
}

/** True when the values at these dotted paths are equal in both (a missing path is undefined). */
export function sameAt(a: unknown, b: unknown, paths: readonly string[]): boolean {
  const at = (o: unknown, p: string) => p.split('.').reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), o);
  return paths.every((p) => canonical(at(a, p)) === canonical(at(b, p)));
}

/** A copy without the given top-level keys (to compare "everything else"). */
export function without<T extends object>(o: T | undefined, keys: readonly string[]): Partial<T> {
  const out = { ...(o ?? {}) } as Record<string, unknown>;
  for (const k of keys) delete out[k];
  return out as Partial<T>;
}

/** SHA-256 of the validated config (defaults filled in, key order and bookkeeping ignored). */
export function fingerprint(config: KioskConfig): string {
  const rest = without(config, [...IGNORED]);
  return createHash('sha256').update(canonical(rest)).digest('hex');
}

/** True when a and b differ anywhere outside the given dotted paths (a setting nobody handles live). */
export function differsOutside(a: unknown, b: unknown, paths: readonly string[]): boolean {
  const strip = (o: unknown) => {
    const copy = o === undefined ? undefined : (JSON.parse(JSON.stringify(o)) as unknown);
    for (const p of paths) {
      const keys = p.split('.');
      const last = keys.pop()!;
      const parent = keys.reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), copy);
      if (parent && typeof parent === 'object') delete (parent as Record<string, unknown>)[last];
    }
    return canonical(copy);
  };
  return strip(a) !== strip(b);
}
