// Payload decoders for live RTP pages. L16 and G.711 are a few lines each and
// live here; G.722 comes from the codec module (src/audio/codecs) through
// registerPageDecoder(), and a page in a codec we cannot decode is refused
// loudly rather than played as noise.

export interface PageDecoder {
  /** sample rate of the decoded PCM */
  readonly rate: number;
  decode(payload: Buffer): Int16Array;
}
export type DecoderFactory = () => PageDecoder;

function ulaw(u: number): number {
  u = ~u & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}
function alaw(a: number): number {
  a ^= 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}
const ULAW = Int16Array.from({ length: 256 }, (_, i) => ulaw(i));
const ALAW = Int16Array.from({ length: 256 }, (_, i) => alaw(i));

function table(t: Int16Array): DecoderFactory {
  return () => ({ rate: 8000, decode: (p) => Int16Array.from(p, (b) => t[b]!) });
}

/** L16: network byte order, mono. */
export function l16(rate: number): DecoderFactory {
  return () => ({
    rate,
    decode: (p) => {
      const n = p.length >> 1;
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = p.readInt16BE(i * 2);
      return out;
    },
  });
}

import { G722Decoder } from './codecs/g722.js';

const registry = new Map<number, DecoderFactory>([
  [9, () => { const d = new G722Decoder(); return { rate: 16000, decode: (p: Buffer) => d.decode(p) }; }], // G.722: 16 kHz audio
  [0, table(ULAW)], // PCMU
  [8, table(ALAW)], // PCMA
  [11, l16(44100)], // L16 mono, static payload type
]);
const names: Record<number, string> = { 0: 'PCMU', 8: 'PCMA', 9: 'G.722', 11: 'L16/44100' };

/** Plugs in a codec (G.722 is payload type 9: 16 kHz audio, 8 kHz RTP clock). */
export function registerPageDecoder(pt: number, factory: DecoderFactory): void {
  registry.set(pt, factory);
}

/** A decoder for a payload type; dynamic types (96-127) are L16 at the group's rate. */
export function pageDecoder(pt: number, l16Rate: number): PageDecoder {
  const f = registry.get(pt) ?? (pt >= 96 && pt <= 127 ? l16(l16Rate) : undefined);
  if (!f) throw new Error(`no decoder for RTP payload type ${pt}${names[pt] ? ` (${names[pt]})` : ''}`);
  return f();
}
