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
  /** Encodes pcm into out from offset; returns the bytes written (the hot path: no allocation). */
  encodeInto(pcm: Int16Array, out: Uint8Array, offset: number): number;
  /** Decodes payload[start, end) into out; returns the samples written (the hot path: no allocation). */
  decodeInto(payload: Uint8Array, start: number, end: number, out: Int16Array): number;
}

// Encoding by a 64 Ki-entry table per law (built on first use, 64 KB each):
// one lookup per sample instead of a segment search.
let ulawEnc: Uint8Array | undefined;
let alawEnc: Uint8Array | undefined;
/** Whether a law's encoding table is built yet (the call set-up warm-up builds it: src/intercom/warm-up.ts). */
export function encodingTableBuilt(name: 'PCMU' | 'PCMA'): boolean {
  return !!(name === 'PCMU' ? ulawEnc : alawEnc);
}
function encTable(f: (pcm: number) => number): Uint8Array {
  const t = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = f((i << 16) >> 16);
  return t;
}

function g711(name: 'PCMU' | 'PCMA', payloadType: number, dec: Int16Array, encode1: (pcm: number) => number, table: () => Uint8Array): Codec {
  const encodeInto = (pcm: Int16Array, out: Uint8Array, offset: number) => {
    const t = table();
    for (let i = 0; i < pcm.length; i++) out[offset + i] = t[pcm[i]! & 0xffff]!;
    return pcm.length;
  };
  const decodeInto = (p: Uint8Array, start: number, end: number, out: Int16Array) => {
    for (let i = start; i < end; i++) out[i - start] = dec[p[i]!]!;
    return end - start;
  };
  return {
    name,
    payloadType,
    rate: 8000,
    encode: (pcm) => Buffer.from(Uint8Array.from(pcm, encode1)),
    decode: (p) => Int16Array.from(p, (b) => dec[b]!),
    encodeInto,
    decodeInto,
  };
}

export const PCMU: Codec = g711('PCMU', 0, ULAW_TABLE, ulawEncode, () => (ulawEnc ??= encTable(ulawEncode)));
export const PCMA: Codec = g711('PCMA', 8, ALAW_TABLE, alawEncode, () => (alawEnc ??= encTable(alawEncode)));
