// Audio of stored messages at the hub: speech synthesised by espeak-ng for a
// new wording (marked synthetic wherever it is shown), and the clip the kiosks
// play, composed of every language in order (zh-CN then en by default) at
// 16 kHz with a short pause between them. Bundled chimes for live pages.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { concat, findAudioDir } from '../../audio/messages.js';
import { resampleAll } from '../../audio/resample.js';
import { encodeWav, parseWav } from '../../audio/wav.js';

export const CLIP_RATE = 16000;
export type Lang = 'en' | 'zh-CN';
const VOICE: Record<Lang, string> = { en: 'en-gb', 'zh-CN': 'cmn' };

/** Peak-normalises to -3 dBFS (as audio/make-audio.sh does for the bundled messages). */
function normalise(x: Int16Array): Int16Array {
  let peak = 1;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  const g = (32767 * 0.708) / peak;
  return Int16Array.from(x, (v) => Math.round(v * g));
}

/** Speaks `text` with espeak-ng (text on stdin: never parsed as options); returns a 16 kHz mono WAV. */
export async function synthesise(text: string, lang: Lang, timeoutMs = 30_000): Promise<Buffer> {
  const wav = await new Promise<Buffer>((resolve, reject) => {
    const child = execFile('espeak-ng', ['-v', VOICE[lang], '-s', '150', '--stdout', '--stdin'], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) {
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'espeak-ng is not installed (scripts/install-system.sh installs it)' : `${err.message} ${String(stderr).slice(0, 200)}`;
        return reject(new Error(`speech synthesis failed: ${why}`));
      }
      resolve(stdout);
    });
    child.stdin?.end(text);
  });
  // Written to a pipe, the WAV's sizes are placeholders; parseWav takes the data to the end.
  const pcm = parseWav(wav);
  const body = normalise(await resampleAll(pcm.samples, pcm.rate, CLIP_RATE));
  const pad = (ms: number) => new Int16Array((CLIP_RATE * ms) / 1000);
  return encodeWav({ rate: CLIP_RATE, samples: concat([pad(50), body, pad(300)]) });
}

/** The clip the kiosks play: each language's WAV in order, at 16 kHz, 300 ms apart. */
export async function composeClip(parts: Buffer[]): Promise<{ wav: Buffer; seconds: number }> {
  const pcm: Int16Array[] = [];
  for (const [i, b] of parts.entries()) {
    const p = parseWav(b);
    pcm.push(await resampleAll(p.samples, p.rate, CLIP_RATE)); // parseWav mixes down to mono
    if (i < parts.length - 1) pcm.push(new Int16Array((CLIP_RATE * 300) / 1000));
  }
  const samples = concat(pcm);
  return { wav: encodeWav({ rate: CLIP_RATE, samples }), seconds: Math.round((samples.length / CLIP_RATE) * 100) / 100 };
}

const chimes = new Map<number, Promise<Int16Array>>();

/** The bundled pre-announcement chime (audio/chimes/chime.wav) at a rate. */
export function chimeAt(rate: number): Promise<Int16Array> {
  let p = chimes.get(rate);
  if (!p) {
    p = (async () => {
      const c = parseWav(readFileSync(path.join(findAudioDir(), 'chimes', 'chime.wav')));
      return resampleAll(c.samples, c.rate, rate);
    })();
    p.catch(() => chimes.delete(rate));
    chimes.set(rate, p);
  }
  return p;
}
