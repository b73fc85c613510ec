// PA clips uploaded in the console, stored by SHA-256 of their bytes. Kiosks
// fetch /clips/<sha256> with their token and check the hash themselves.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseWav } from '../audio/wav.js';

export class ClipStore {
  constructor(private readonly dir: string) {}

  /** Checks that the upload is a playable WAV, then stores it atomically. */
  async add(data: Buffer): Promise<{ sha256: string; seconds: number }> {
    const pcm = parseWav(data); // throws a clear reason for anything the kiosks could not play
    const sha256 = createHash('sha256').update(data).digest('hex');
    mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, `${sha256}.wav`);
    if (!existsSync(file)) {
      writeFileSync(file + '.tmp', data);
      renameSync(file + '.tmp', file);
    }
    return { sha256, seconds: Math.round((pcm.samples.length / pcm.rate) * 100) / 100 };
  }

  get(sha256: string): Buffer | undefined {
    const file = path.join(this.dir, `${sha256}.wav`);
    return existsSync(file) ? readFileSync(file) : undefined;
  }
}
