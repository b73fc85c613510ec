// Reading config files: JSON, an optional "extends" chain (defaults files),
// deep merge, then validation. Relative paths in a config resolve against
// the file's folder.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validateKioskConfig, validateHubConfig, validateKioskDefaults, validateSiteFile, type ConfigError, type Result } from './validate.js';
import type { KioskConfig } from './schema/kiosk.js';
import { WayMap } from '../display/wayfinding/graph.js';
import type { HubConfig } from './schema/hub.js';

export type ConfigKind = 'kiosk' | 'hub' | 'kiosk-defaults' | 'site' | 'schema' | 'wayfinding';

export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly errors: ConfigError[],
  ) {
    super(`${file}: invalid configuration\n` + errors.map((e) => `  ${e.path || '/'}: ${e.message}`).join('\n'));
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function deepMerge(base: Json, over: Json): Json {
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: { [k: string]: Json } = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k]!, v) : v;
    return out;
  }
  return over;
}

function readJson(file: string): Result<Json> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, errors: [{ path: '', message: `cannot read: ${(err as Error).message}` }] };
  }
  try {
    return { ok: true, value: JSON.parse(text) as Json, errors: [] };
  } catch (err) {
    return { ok: false, errors: [{ path: '', message: `not valid JSON: ${(err as Error).message}` }] };
  }
}

/**
 * Reads a file and its "extends" chain ("extends" is a path or a list of
 * paths, merged in order, the file itself last); returns the merged document.
 */
export function readMerged(file: string, depth = 0): Result<Json> {
  const r = readJson(file);
  if (!r.ok) return r;
  const doc = r.value;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { ok: false, errors: [{ path: '', message: 'must be a JSON object' }] };
  const { extends: parents, ...own } = doc;
  if (parents === undefined) return { ok: true, value: own, errors: [] };
  const list = Array.isArray(parents) ? parents : [parents];
  if (!list.every((p): p is string => typeof p === 'string')) return { ok: false, errors: [{ path: '/extends', message: 'must be a file path or a list of them' }] };
  if (depth > 4) return { ok: false, errors: [{ path: '/extends', message: 'extends chain is too deep' }] };
  let merged: Json = {};
  for (const parent of list) {
    const p = readMerged(path.resolve(path.dirname(file), parent), depth + 1);
    if (!p.ok) return { ok: false, errors: p.errors.map((e) => ({ path: '/extends', message: `${parent}: ${e.path || '/'} ${e.message}` })) };
    const { $schema: _drop, ...parentDoc } = p.value as { [k: string]: Json };
    merged = deepMerge(merged, parentDoc);
  }
  return { ok: true, value: deepMerge(merged, own), errors: [] };
}

export function detectKind(doc: Json): ConfigKind | undefined {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const s = typeof doc.$schema === 'string' ? doc.$schema : '';
  if (s.endsWith('kiosk-defaults.schema.json')) return 'kiosk-defaults';
  if (s.endsWith('kiosk.schema.json')) return 'kiosk';
  if (s.endsWith('site.schema.json')) return 'site';
  if (s.endsWith('hub.schema.json')) return 'hub';
  if (s.endsWith('wayfinding.schema.json')) return 'wayfinding';
  if (s.startsWith('http://json-schema.org/') || s.startsWith('https://json-schema.org/')) return 'schema';
  if ('users' in doc || 'kiosks' in doc) return 'hub';
  if ('sip' in doc || 'io' in doc || 'extends' in doc) return 'kiosk';
  return undefined;
}

export interface Loaded<T> {
  config: T;
  file: string;
  dir: string;
}

export function loadKioskConfig(file: string): Loaded<KioskConfig> {
  const m = readMerged(file);
  if (!m.ok) throw new ConfigFileError(file, m.errors);
  const dir = path.dirname(path.resolve(file));
  const v = validateKioskConfig(m.value, { dir });
  if (!v.ok) throw new ConfigFileError(file, v.errors);
  return { config: v.value, file: path.resolve(file), dir };
}

export function loadHubConfig(file: string): Loaded<HubConfig> {
  const m = readMerged(file);
  if (!m.ok) throw new ConfigFileError(file, m.errors);
  const v = validateHubConfig(m.value);
  if (!v.ok) throw new ConfigFileError(file, v.errors);
  return { config: v.value, file: path.resolve(file), dir: path.dirname(path.resolve(file)) };
}

/** For `helppoint config validate`: any config file in config/, by kind. */
export function validateFile(file: string): { kind?: ConfigKind; errors: ConfigError[] } {
  const raw = readJson(file);
  if (!raw.ok) return { errors: raw.errors };
  const kind = detectKind(raw.value);
  if (!kind) return { errors: [{ path: '/$schema', message: 'cannot tell which kind of config this is: set "$schema"' }] };
  if (kind === 'schema') return { kind, errors: [] };
  if (kind === 'wayfinding') {
    try {
      WayMap.check(raw.value);
      return { kind, errors: [] };
    } catch (err) {
      return { kind, errors: [{ path: '/', message: (err as Error).message }] };
    }
  }
  const m = readMerged(file);
  if (!m.ok) return { kind, errors: m.errors };
  const r =
    kind === 'kiosk'
      ? validateKioskConfig(m.value, { dir: path.dirname(path.resolve(file)) })
      : kind === 'hub'
        ? validateHubConfig(m.value)
        : kind === 'site'
          ? validateSiteFile(m.value)
          : validateKioskDefaults(m.value);
  return { kind, errors: r.ok ? [] : r.errors };
}
