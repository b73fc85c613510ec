// The bundled standard messages and chime (made by audio/make-audio.sh):
// audio/messages.json holds the texts (also shown on screen), and
// audio/messages/<id>.<lang>.wav the speech. Loaded once, converted to the
// output rate, kept in memory: an evacuation message must not wait for disk.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWav } from './wav.js';
import { resampleAll } from './resample.js';
import type { LocalText } from '../display/events.js';

export type Lang = 'zh-CN' | 'en';

/** The repository's audio/ folder, from src/ or from the compiled dist/src/. */
export function findAudioDir(start = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'audio', 'messages.json'))) return path.join(dir, 'audio');
    dir = path.dirname(dir);
  }
  return path.resolve('audio'); // MessageLibrary reports what is missing
}

export class MessageLibrary {
  readonly texts: Record<string, LocalText>;
  private readonly cache = new Map<string, Promise<Int16Array>>();

  constructor(
    readonly dir: string,
    readonly rate: number,
  ) {
    try {
      this.texts = JSON.parse(readFileSync(path.join(dir, 'messages.json'), 'utf8')) as Record<string, LocalText>;
    } catch (err) {
      // no bundled messages: clips and live pages still work; preload() reports it
      this.texts = {};
      this.loadError = `bundled messages unreadable (${(err as Error).message}): run audio/make-audio.sh`;
    }
  }

  loadError?: string;

  has(id: string): boolean {
    return Object.hasOwn(this.texts, id);
  }

  ids(): string[] {
    return Object.keys(this.texts);
  }

  /** The message spoken in each language in turn, at the output rate. */
  async message(id: string, langs: readonly Lang[]): Promise<Int16Array> {
    if (!this.has(id)) throw new Error(`unknown message "${id}" (have: ${this.ids().join(', ')})`);
    const parts = await Promise.all(langs.map((l) => this.wav(path.join('messages', `${id}.${l}.wav`))));
    return concat(parts);
  }

  chime(): Promise<Int16Array> {
    return this.wav(path.join('chimes', 'chime.wav'));
  }

  /** Loads everything now, so the first announcement does not pay for it. */
  async preload(langs: readonly Lang[]): Promise<void> {
    if (this.loadError) throw new Error(this.loadError);
    // one at a time, yielding between files: start-up (button presses) comes first
    await this.chime();
    for (const id of this.ids()) {
      await new Promise((r) => setImmediate(r));
      await this.message(id, langs);
    }
  }

  private wav(rel: string): Promise<Int16Array> {
    let p = this.cache.get(rel);
    if (!p) {
      p = (async () => {
        const f = path.join(this.dir, rel);
        if (!existsSync(f)) throw new Error(`bundled audio ${rel} is missing: run audio/make-audio.sh`);
        const pcm = parseWav(readFileSync(f));
        return resampleAll(pcm.samples, pcm.rate, this.rate);
      })();
      p.catch(() => this.cache.delete(rel));
      this.cache.set(rel, p);
    }
    return p;
  }
}

export function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
