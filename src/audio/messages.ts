// The bundled standard messages and chime (made by audio/make-audio.sh):
// audio/messages.json holds the texts (also shown on screen), and
// audio/messages/<id>.<lang>.wav the speech. The chime (short, before every
// announcement) is kept in memory at the output rate; a message is read when
// it is played (the bundled files are already at the usual 16 kHz output
// rate: reading half a megabyte from disk takes milliseconds, far inside EN
// 54-16's 3 s) and not kept, so an idle kiosk does not hold about 3 MB of
// speech it may never play (the idle_rss_mb goal). Every file is checked at
// start, so a missing one is a fault at once, not at the first announcement.
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
  private chimePcm?: Promise<Int16Array>;

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
    if (!this.chimePcm) {
      this.chimePcm = this.wav(path.join('chimes', 'chime.wav'));
      this.chimePcm.catch(() => (this.chimePcm = undefined));
    }
    return this.chimePcm;
  }

  /** Loads the chime and checks that every message exists in every language, so a missing file is a fault at start. */
  async preload(langs: readonly Lang[]): Promise<void> {
    if (this.loadError) throw new Error(this.loadError);
    await this.chime();
    for (const id of this.ids()) for (const l of langs) this.file(path.join('messages', `${id}.${l}.wav`));
  }

  private file(rel: string): string {
    const f = path.join(this.dir, rel);
    if (!existsSync(f)) throw new Error(`bundled audio ${rel} is missing: run audio/make-audio.sh`);
    return f;
  }

  private async wav(rel: string): Promise<Int16Array> {
    const pcm = parseWav(readFileSync(this.file(rel)));
    return resampleAll(pcm.samples, pcm.rate, this.rate);
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
