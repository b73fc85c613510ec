// Stored announcement clips, cached on the kiosk by content hash. A clip is
// fetched from the hub once (bearer token of the kiosk), its SHA-256 checked
// against the name it was asked for, parsed as WAV, and only then written to
// the cache (temp file + rename, so a crash never leaves half a clip). A clip
// in the cache is re-verified when loaded: a corrupt disk never plays noise.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { parseWav, type Pcm } from './wav.js';
import { hubGet } from '../hublink/pinning.js';

export const SHA256 = /^[0-9a-f]{64}$/;
const MAX_CLIP_BYTES = 20 * 1024 * 1024;

export class ClipError extends Error {}

export interface ClipSource {
  /** base for relative clip URLs (the hub's http(s) origin) */
  baseUrl?: string;
  token?: string;
  /** SPKI pins of the hub (src/hublink/pinning.ts): clips come through the same pinned trust as the hub link */
  pins?: readonly string[];
  timeoutMs?: number;
}

export class ClipCache {
  private readonly memory = new Map<string, Pcm>();
  private readonly inflight = new Map<string, Promise<Pcm>>();

  constructor(
    readonly dir: string,
    private source: ClipSource = {},
  ) {}

  /** The hub's address, token or pins changed (a config from the hub): the next fetch uses them. */
  updateSource(source: ClipSource): void {
    this.source = { ...this.source, ...source };
  }

  has(sha256: string): boolean {
    return this.memory.has(sha256) || existsSync(this.file(sha256));
  }

  private file(sha256: string): string {
    return path.join(this.dir, `${sha256}.wav`);
  }

  /** The clip's PCM, from memory, disk or the hub, in that order. */
  get(sha256: string, url?: string): Promise<Pcm> {
    const sha = String(sha256).toLowerCase();
    if (!SHA256.test(sha)) return Promise.reject(new ClipError(`clip id "${sha256}" is not a SHA-256 hex digest`));
    const m = this.memory.get(sha);
    if (m) return Promise.resolve(m);
    let p = this.inflight.get(sha);
    if (!p) {
      p = this.load(sha, url).finally(() => this.inflight.delete(sha));
      this.inflight.set(sha, p);
    }
    return p;
  }

  private async load(sha: string, url?: string): Promise<Pcm> {
    const f = this.file(sha);
    if (existsSync(f)) {
      const buf = readFileSync(f);
      if (digest(buf) === sha) return this.keep(sha, parseWav(buf));
      unlinkSync(f); // damaged on disk: fetch again
    }
    if (!url) throw new ClipError(`clip ${sha.slice(0, 12)} is not cached and has no URL`);
    const buf = await this.fetch(sha, url);
    let pcm: Pcm;
    try {
      pcm = parseWav(buf);
    } catch (err) {
      throw new ClipError(`clip ${sha.slice(0, 12)} is not a playable WAV: ${(err as Error).message}`);
    }
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${f}.${process.pid}.tmp`;
    writeFileSync(tmp, buf);
    renameSync(tmp, f);
    return this.keep(sha, pcm);
  }

  private keep(sha: string, pcm: Pcm): Pcm {
    if (this.memory.size > 64) this.memory.delete(this.memory.keys().next().value!);
    this.memory.set(sha, pcm);
    return pcm;
  }

  private async fetch(sha: string, url: string): Promise<Buffer> {
    let target: URL;
    try {
      target = new URL(url, this.source.baseUrl);
    } catch {
      throw new ClipError(`clip ${sha.slice(0, 12)}: invalid URL "${url}"`);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new ClipError(`clip ${sha.slice(0, 12)}: URL must be http(s), got ${target.protocol}`);
    const headers: Record<string, string> = {};
    // the kiosk's credential goes to the hub only, never to another origin named in a URL
    const toHub = !this.source.baseUrl || target.origin === new URL(this.source.baseUrl).origin;
    if (this.source.token && toHub) headers.authorization = `Bearer ${this.source.token}`;
    let res: { status: number; body: Buffer };
    try {
      res = await hubGet(target, { headers, pins: this.source.pins, timeoutMs: this.source.timeoutMs ?? 15_000, maxBytes: MAX_CLIP_BYTES });
    } catch (err) {
      throw new ClipError(`clip ${sha.slice(0, 12)}: fetch from ${target.origin}${target.pathname} failed: ${(err as Error).message}`);
    }
    if (res.status < 200 || res.status > 299) throw new ClipError(`clip ${sha.slice(0, 12)}: hub answered HTTP ${res.status} for ${target.pathname}`);
    const buf = res.body;
    const got = digest(buf);
    if (got !== sha) throw new ClipError(`clip ${sha.slice(0, 12)}: content hash mismatch (got ${got.slice(0, 12)}), discarded`);
    return buf;
  }
}

export function digest(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** ws(s)://host/kiosk -> http(s)://host/ : clip URLs from the hub may be relative. */
export function hubHttpBase(wsUrl?: string): string | undefined {
  if (!wsUrl) return undefined;
  try {
    const u = new URL(wsUrl);
    u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
    u.pathname = '/';
    u.search = '';
    return u.toString();
  } catch {
    return undefined;
  }
}
