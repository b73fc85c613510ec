// ITU-T G.711 mu-law (PCMU) and A-law (PCMA): 8 kHz, one byte per sample.
// Decoding by 256-entry tables; encoding by the classic segment search.
function ulawDecode(u: number): number {
  u = ~u & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}
function alawDecode(a: number): number {
  a ^= 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}
export const ULAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => ulawDecode(i));
export const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => alawDecode(i));

// Segment end points: mu-law works on 14-bit magnitudes, A-law on 13-bit.
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
function segment(v: number, ends: number[]): number {
  for (let i = 0; i < 8; i++) if (v <= ends[i]!) return i;
  return 8;
}

export function ulawEncode(pcm: number): number {
  const BIAS = 0x84;
  let mask: number;
  pcm >>= 2; // 14-bit
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7f;
  } else mask = 0xff;
  if (pcm > 8159) pcm = 8159;
  pcm += BIAS >> 2;
  const seg = segment(pcm, SEG_UEND);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((pcm >> (seg + 1)) & 0xf)) ^ mask;
}

export function alawEncode(pcm: number): number {
  let mask: number;
  pcm >>= 3; // 13-bit
  if (pcm >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const seg = segment(pcm, SEG_AEND);
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= seg < 2 ? (pcm >> 1) & 0xf : (pcm >> seg) & 0xf;
  return aval ^ mask;
}

export interface Codec {
  readonly name: 'PCMU' | 'PCMA' | 'G722';
  readonly payloadType: number;
  /** audio sample rate */
  readonly rate: number;
  encode(pcm: Int16Array): Buffer;
  decode(payload: Buffer): Int16Array;
}

export const PCMU: Codec = {
  name: 'PCMU',
  payloadType: 0,
  rate: 8000,
  encode: (pcm) => Buffer.from(Uint8Array.from(pcm, ulawEncode)),
  decode: (p) => Int16Array.from(p, (b) => ULAW_TABLE[b]!),
};

export const PCMA: Codec = {
  name: 'PCMA',
  payloadType: 8,
  rate: 8000,
  encode: (pcm) => Buffer.from(Uint8Array.from(pcm, alawEncode)),
  decode: (p) => Int16Array.from(p, (b) => ALAW_TABLE[b]!),
};

