// A kiosk's effective config and where each value comes from: its base file,
// then the layers defaults < site < zone < kiosk (the same deep merge as the
// kiosk files' "extends"), then the schema defaults the kiosk fills in. Also
// the hub-side validation of a composed config with the exact rules of
// `helppoint config validate`, and flat diffs for the console.
import { statSync } from 'node:fs';
import path from 'node:path';
import { deepMerge, readMerged } from '../../config/load.js';
import { stripSecrets } from '../../config/secrets.js';
import { validateKioskConfig, type ConfigError } from '../../config/validate.js';
import type { HubStorage, KioskRow, LayerRef, LayerScope } from '../storage/storage.js';

type Json = Parameters<typeof deepMerge>[0];
type Doc = Record<string, unknown>;

/** Where a value comes from: 'file' (the kiosk's base file), a layer 'zone:concourse@3', or 'default' (the schema). */
export type Source = string;

export const layerName = (scope: LayerScope, target: string, version: number | 'draft') => `${scope}${target ? `:${target}` : ''}@${version}`;

const isObj = (v: unknown): v is Doc => !!v && typeof v === 'object' && !Array.isArray(v);

/** JSON pointer segment escaping (RFC 6901). */
const seg = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * deepMerge with provenance: `prov` maps a JSON pointer to the source that
 * last set it. An object merged into an object recurses; anything else
 * (arrays included) replaces, and the paths below it forget older sources.
 */
export function mergeTracked(base: unknown, over: unknown, source: Source, prov: Map<string, Source>, at = ''): unknown {
  if (isObj(base) && isObj(over)) {
    const out: Doc = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeTracked(base[k], v, source, prov, `${at}/${seg(k)}`) : assign(v, source, prov, `${at}/${seg(k)}`);
    return out;
  }
  return assign(over, source, prov, at);
}

function assign(v: unknown, source: Source, prov: Map<string, Source>, at: string): unknown {
  for (const p of [...prov.keys()]) if (p === at || p.startsWith(`${at}/`)) prov.delete(p);
  // Objects record their leaves (a later layer may override one key of them); arrays and scalars record themselves.
  if (isObj(v) && Object.keys(v).length > 0) for (const [k, x] of Object.entries(v)) assign(x, source, prov, `${at}/${seg(k)}`);
  else prov.set(at, source);
  return v;
}

/** The source of a path: the longest prefix recorded, else the schema default. */
export function sourceOf(prov: Map<string, Source>, p: string): Source {
  for (let q = p; ; q = q.slice(0, q.lastIndexOf('/'))) {
    const s = prov.get(q);
    if (s) return s;
    if (!q) return 'default';
  }
}

/** Leaves of a document as JSON pointer -> value (arrays by index; empty objects and arrays as leaves). */
export function flatten(doc: unknown, at = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (isObj(doc) && Object.keys(doc).length) for (const [k, v] of Object.entries(doc)) flatten(v, `${at}/${seg(k)}`, out);
  else if (Array.isArray(doc) && doc.length) doc.forEach((v, i) => flatten(v, `${at}/${i}`, out));
  else if (at !== '' || !isObj(doc)) out.set(at, doc); // an empty document has no leaves
  return out;
}

export interface Change {
  path: string;
  before?: unknown;
  after?: unknown;
}

/** What differs between two documents, leaf by leaf. */
export function diff(before: unknown, after: unknown): Change[] {
  const a = flatten(before);
  const b = flatten(after);
  const out: Change[] = [];
  for (const [p, v] of a) {
    if (!b.has(p)) out.push({ path: p, before: v });
    else if (JSON.stringify(v) !== JSON.stringify(b.get(p))) out.push({ path: p, before: v, after: b.get(p) });
  }
  for (const [p, v] of b) if (!a.has(p)) out.push({ path: p, after: v });
  return out.sort((x, y) => (x.path < y.path ? -1 : 1));
}

export interface LayerDoc {
  scope: LayerScope;
  target: string;
  version: number;
  document: unknown;
}

export interface Effective {
  /** the validated config with the schema defaults filled in, secrets removed */
  document: Doc;
  /** JSON pointer -> source, for every leaf */
  sources: Record<string, Source>;
  errors: ConfigError[];
}

/**
 * Composes kiosks' configs at the hub. Layer versions never change once
 * written, so their documents are cached; base files are re-read when their
 * modification time changes.
 */
export class Composer {
  private readonly layerDocs = new Map<string, unknown>();
  private readonly rawBases = new Map<string, { mtimeMs: number; value?: Json }>();
  /** validation results by base file and layer versions (kiosks sharing them share one) */
  private readonly checked = new Map<string, ConfigError[]>();

  constructor(
    private readonly storage: HubStorage,
    private readonly configDir: string,
  ) {}

  async layerDoc(scope: LayerScope, target: string, version: number): Promise<unknown> {
    if (!version) return undefined;
    const key = `${scope}/${target}/${version}`;
    if (!this.layerDocs.has(key)) {
      const l = await this.storage.getLayer(scope, target, version);
      if (!l) return undefined;
      this.layerDocs.set(key, l.document);
    }
    return this.layerDocs.get(key);
  }

  /** The kiosk's base file with its "extends" chain, secrets kept (only for validating here; never sent). */
  rawBase(k: KioskRow): Json | undefined {
    if (!k.baseConfig) return undefined;
    const file = path.resolve(this.configDir, k.baseConfig);
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      return undefined;
    }
    let c = this.rawBases.get(file);
    if (!c || c.mtimeMs !== mtimeMs) {
      const m = readMerged(file);
      c = { mtimeMs, value: m.ok ? m.value : undefined };
      this.rawBases.set(file, c);
    }
    return c.value;
  }

  /** The layers a ref names, lowest first, with an optional replacement (a draft) for one of them. */
  async layersOf(k: KioskRow, ref: LayerRef, draft?: { scope: LayerScope; target: string; document: unknown }): Promise<{ source: Source; doc: unknown }[]> {
    const out: { source: Source; doc: unknown }[] = [];
    for (const [scope, target, v] of [
      ['defaults', '', ref.defaults],
      ['site', '', ref.site],
      ['zone', ref.zoneId, ref.zone],
      ['kiosk', k.id, ref.kiosk],
    ] as const) {
      if (draft && draft.scope === scope && draft.target === target) out.push({ source: layerName(scope, target, 'draft'), doc: draft.document });
      else if (v) out.push({ source: layerName(scope, target, v), doc: await this.layerDoc(scope, target, v) });
    }
    return out;
  }

  /** The effective config of a kiosk for these layer versions (and a draft), validated, with the source of every value. */
  async effective(k: KioskRow, ref: LayerRef, draft?: { scope: LayerScope; target: string; document: unknown }): Promise<Effective | undefined> {
    const raw = this.rawBase(k);
    if (raw === undefined) return undefined;
    const prov = new Map<string, Source>();
    let doc: unknown = mergeTracked({}, raw, 'file', prov);
    for (const l of await this.layersOf(k, ref, draft)) if (l.doc !== undefined) doc = mergeTracked(doc, l.doc, l.source, prov);
    const d = { ...(doc as Doc) };
    delete d.$schema;
    const v = validateKioskConfig(d);
    const document = stripSecrets((v.ok ? v.value : d) as Doc);
    delete document.$schema;
    const sources: Record<string, Source> = {};
    for (const p of flatten(document).keys()) sources[p] = sourceOf(prov, p);
    return { document, sources, errors: v.ok ? [] : v.errors };
  }

  /**
   * Validation of a kiosk's composed config with the CLI's rules, cached by
   * base file and layer versions (a zone of 1,000 kiosks on one base file is
   * validated once). The draft, if any, takes the place of its layer.
   */
  async validate(k: KioskRow, ref: LayerRef, draft?: { scope: LayerScope; target: string; document: unknown; key: string }): Promise<ConfigError[] | undefined> {
    if (this.rawBase(k) === undefined) return undefined;
    const file = path.resolve(this.configDir, k.baseConfig!);
    const key = [file, this.rawBases.get(file)?.mtimeMs, ref.defaults, ref.site, ref.zoneId, ref.zone, ref.kiosk ? `${k.id}@${ref.kiosk}` : '-', draft ? `${draft.scope}/${draft.target}#${draft.key}` : ''].join('|');
    let errors = this.checked.get(key);
    if (!errors) {
      const e = await this.effective(k, ref, draft);
      if (!e) return undefined;
      errors = e.errors;
      if (this.checked.size > 5000) this.checked.delete(this.checked.keys().next().value!);
      this.checked.set(key, errors);
    }
    return errors;
  }
}
