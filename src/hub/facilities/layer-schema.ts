// The schema the layer editor works on, derived from the published kiosk
// schema (config/schema/kiosk.schema.json): a layer is a partial kiosk config,
// so no property of an object is required and no default is filled in;
// inside arrays everything stays as published (a layer replaces an array
// whole, so its items must be complete). Identity and bookkeeping a layer
// must not set (id, configVersion, dataDir, $schema) are left out, and so
// are secrets (hub token, SIP passwords): the hub strips them from every layer
// and the kiosk keeps its own (src/config/secrets.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSecretKey } from '../../config/secrets.js';

type S = Record<string, unknown>;

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** config/schema/kiosk.schema.json of this source tree (from src/ or from dist/). */
export function publishedKioskSchema(): S {
  for (const up of ['../../..', '../../../..']) {
    try {
      return JSON.parse(readFileSync(path.resolve(HERE, up, 'config/schema/kiosk.schema.json'), 'utf8')) as S;
    } catch {
      /* next */
    }
  }
  throw new Error('config/schema/kiosk.schema.json not found');
}

/** Settings a layer never carries: the kiosk's identity and the hub's bookkeeping. */
export const NOT_IN_LAYERS = ['$schema', 'id', 'configVersion', 'dataDir'];

export function layerSchema(published: S): S {
  const partial = (s: unknown, inArray: boolean): unknown => {
    if (Array.isArray(s)) return s.map((x) => partial(x, inArray));
    if (!s || typeof s !== 'object') return s;
    const out: S = {};
    for (const [k, v] of Object.entries(s as S)) {
      if (!inArray && (k === 'required' || k === 'default')) continue;
      if (k === 'items' || k === 'prefixItems') out[k] = partial(v, true);
      else if (k === 'properties' && v && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v as S).map(([p, x]) => [p, partial(x, inArray)]));
      else out[k] = partial(v, inArray);
    }
    return out;
  };
  const s = partial(published, false) as S;
  const props = { ...(s.properties as S) };
  for (const k of NOT_IN_LAYERS) delete props[k];
  return { ...s, $id: undefined, title: 'Layer (a partial kiosk config)', properties: props };
}

/**
 * The schema without its secret fields (token, password, secret at any depth,
 * also dropped from `required`): what the hub serves to a browser. Those
 * settings never travel through the hub; each kiosk keeps its own.
 */
export function withoutSecretFields<T>(s: T): T {
  if (Array.isArray(s)) return s.map((x) => withoutSecretFields(x)) as T;
  if (!s || typeof s !== 'object') return s;
  const out: S = {};
  for (const [k, v] of Object.entries(s as S)) {
    if (k === 'properties' && v && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v as S).filter(([p]) => !isSecretKey(p)).map(([p, x]) => [p, withoutSecretFields(x)]));
    } else if (k === 'required' && Array.isArray(v)) out[k] = v.filter((p) => typeof p !== 'string' || !isSecretKey(p));
    else out[k] = withoutSecretFields(v);
  }
  return out as T;
}
