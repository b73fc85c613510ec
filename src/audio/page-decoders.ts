// Payload decoders for live RTP pages: G.711 and G.722 from src/audio/codecs,
// L16 here. A page in a codec we cannot decode is refused loudly rather than
// played as noise.

export interface PageDecoder {
  /** sample rate of the decoded PCM */
  readonly rate: number;
  decode(payload: Buffer): Int16Array;
}
export type DecoderFactory = () => PageDecoder;

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
import { ALAW_TABLE as ALAW, ULAW_TABLE as ULAW } from './codecs/g711.js';

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
