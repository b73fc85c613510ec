// A kiosk's configuration as the hub sends it: the kiosk's base file (from the
// hub config's kiosk list), then the layers defaults < site < zone < kiosk,
// each deep-merged over the one below. Secrets are stripped: the kiosk keeps
// its own. Base files are re-read when they change; layer versions never
// change once written, so their documents are cached.
import { statSync } from 'node:fs';
import path from 'node:path';
import { deepMerge, readMerged } from '../config/load.js';
import { stripSecrets } from '../config/secrets.js';
import type { HubStorage, KioskRow, LayerRef, LayerScope } from './storage/storage.js';

export type { LayerRef };

/** What composing needs of a kiosk row. */
export type KioskBase = Pick<KioskRow, 'id' | 'baseConfig'>;


type Json = Parameters<typeof deepMerge>[0];

export class ConfigComposer {
  private readonly bases = new Map<string, { mtimeMs: number; checkedAt: number; value?: Json; error?: string }>();
  private readonly layers = new Map<string, Json>();
  /** composed documents as JSON text, by base file, its mtime and layer versions (kiosks sharing a base share one) */
  private readonly texts = new Map<string, string>();

  constructor(
    private readonly storage: HubStorage,
    private readonly configDir: string,
  ) {}

  /** The current layer versions that apply to a kiosk. */
  static refFor(k: Pick<KioskRow, 'id' | 'zone'>, current: Map<string, number>): LayerRef {
    return {
      defaults: current.get('defaults/') ?? 0,
      site: current.get('site/') ?? 0,
      zone: current.get(`zone/${k.zone}`) ?? 0,
      kiosk: current.get(`kiosk/${k.id}`) ?? 0,
      zoneId: k.zone,
    };
  }

  base(k: KioskBase): { ok: true; value: Json } | { ok: false; error: string } {
    if (!k.baseConfig) return { ok: false, error: 'unknown kiosk, or no base config file for it' };
    const file = path.resolve(this.configDir, k.baseConfig);
    // A fan-out asks for the same file for thousands of kiosks: look at the disk at most once a second.
    const now = Date.now();
    const fresh = this.bases.get(file);
    if (fresh && now - fresh.checkedAt < 1000) return fresh.error ? { ok: false, error: fresh.error } : { ok: true, value: fresh.value! };
    let mtimeMs = -1;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      return { ok: false, error: 'base config unreadable' };
    }
    let cached = this.bases.get(file);
    if (!cached || cached.mtimeMs !== mtimeMs) {
      const m = readMerged(file);
      cached = m.ok ? { mtimeMs, checkedAt: now, value: stripSecrets(m.value) } : { mtimeMs, checkedAt: now, error: 'base config unreadable' };
      this.bases.set(file, cached);
    } else cached.checkedAt = now;
    return cached.error ? { ok: false, error: cached.error } : { ok: true, value: cached.value! };
  }

  private async layer(scope: LayerScope, target: string, version: number): Promise<Json | undefined> {
    if (!version) return undefined;
    const key = `${scope}/${target}/${version}`;
    if (!this.layers.has(key)) {
      const l = await this.storage.getLayer(scope, target, version);
      this.layers.set(key, (l?.document ?? {}) as Json);
    }
    return this.layers.get(key);
  }

  /**
   * The document as JSON text if it is composed already (a fan-out's kiosks after the first), without a turn of
   * the event loop; null when it must be composed (composeText), undefined when the kiosk has no usable base.
   */
  cachedText(k: KioskBase, ref: LayerRef): string | undefined | null {
    const b = this.base(k);
    if (!b.ok) return undefined;
    return this.texts.get(this.textKey(k, ref)) ?? null;
  }

  // The document depends on the base file and the layer versions only; the kiosk layer is the kiosk's own.
  private textKey(k: KioskBase, ref: LayerRef): string {
    const file = path.resolve(this.configDir, k.baseConfig!);
    return [file, this.bases.get(file)?.mtimeMs, ref.defaults, ref.site, ref.zoneId, ref.zone, ref.kiosk ? `${k.id}@${ref.kiosk}` : '-'].join('|');
  }

  /** The document as JSON text, composed once per base file and layer versions. */
  async composeText(k: KioskBase, ref: LayerRef): Promise<string | undefined> {
    const b = this.base(k);
    if (!b.ok) return undefined;
    const key = this.textKey(k, ref);
    let text = this.texts.get(key);
    if (text === undefined) {
      const doc = await this.compose(k, ref);
      if (!doc) return undefined;
      text = JSON.stringify(doc);
      if (this.texts.size > 5000) this.texts.delete(this.texts.keys().next().value!);
      this.texts.set(key, text);
    }
    return text;
  }

  /** The document for a kiosk and a set of layer versions; undefined if its base is missing. */
  async compose(k: KioskBase, ref: LayerRef): Promise<Record<string, unknown> | undefined> {
    const b = this.base(k);
    if (!b.ok) return undefined;
    let doc = b.value;
    for (const [scope, target, v] of [
      ['defaults', '', ref.defaults],
      ['site', '', ref.site],
      ['zone', ref.zoneId, ref.zone],
      ['kiosk', k.id, ref.kiosk],
    ] as const) {
      const l = await this.layer(scope, target, v);
      if (l !== undefined) doc = deepMerge(doc, l);
    }
    const out = { ...(doc as Record<string, unknown>) };
    delete out.$schema;
    return out;
  }
}
