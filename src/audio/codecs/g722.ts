// ITU-T G.722 (64 kbit/s mode): 16 kHz wideband audio as two ADPCM sub-bands
// split by a 24-tap QMF. One byte carries two input samples: 6 bits for the
// lower band, 2 for the upper. The RTP clock stays at 8 kHz (RFC 3551 4.5.2).
// Written from the ITU-T G.722 description (blocks named as in the standard:
// QMF, quantiser, INVQAL/INVQBL, LOGSCL, SCALEL, UPPOL1/2, UPZERO, FILTEP,
// FILTEZ, PREDIC); no npm package provides it.
import type { Codec } from './g711.js';

const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042];
const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
const ILB = [
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444,
  3520, 3597, 3676, 3756, 3838, 3922, 4008,
];
const WH = [0, -214, 798];
const RH2 = [2, 1, 2, 1];
const QM2 = [-7408, -1616, 7408, 1616];
const QM4 = [0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0];
const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944,
  -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576,
  7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
const Q6 = [
  0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557,
  2919, 0, 0,
];
const ILN = [0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0];
const ILP = [0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0];
const IHN = [0, 1, 0];
const IHP = [0, 3, 2];
// QMF taps h0..h11 (the filter is symmetric) arranged for the two polyphase branches: even taps, then odd taps reversed.
const QMF = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];

const sat = (v: number) => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
const sign = (x: number) => x >> 15;

/** One sub-band's adaptive predictor and scale factor. */
class Band {
  s = 0;
  sp = 0;
  sz = 0;
  r = [0, 0, 0];
  a = [0, 0, 0];
  ap = [0, 0, 0];
  p = [0, 0, 0];
  d = [0, 0, 0, 0, 0, 0, 0];
  b = [0, 0, 0, 0, 0, 0, 0];
  bp = [0, 0, 0, 0, 0, 0, 0];
  nb = 0;
  det: number;
  constructor(det: number) {
    this.det = det;
  }

  /**
   * LOGSCL + SCALEL/SCALEH: adapt the log scale factor nb, then the step size
   * det = 2^(nb/2048 - offset) taken from the ILB table (offset 8 for the
   * lower band, 10 for the upper band).
   */
  scale(weight: number, max: number, offset: number): void {
    let wd = ((this.nb * 127) >> 7) + weight;
    wd = wd < 0 ? 0 : wd > max ? max : wd;
    this.nb = wd;
    const frac = (wd >> 6) & 31;
    const shift = offset - (wd >> 11);
    const v = shift < 0 ? ILB[frac]! << -shift : ILB[frac]! >> shift;
    this.det = v << 2;
  }

  /** Predictor update with the quantised difference d (the standard's "block 4"). */
  update(d: number): void {
    this.d[0] = d;
    this.r[0] = sat(this.s + d);
    this.p[0] = sat(this.sz + d);
    // UPPOL2
    let wd1 = sat(this.a[1]! << 2);
    let wd2 = sign(this.p[0]) === sign(this.p[1]!) ? -wd1 : wd1;
    if (wd2 > 32767) wd2 = 32767;
    let wd3 = (wd2 >> 7) + (sign(this.p[0]) === sign(this.p[2]!) ? 128 : -128) + ((this.a[2]! * 32512) >> 15);
    this.ap[2] = wd3 > 12288 ? 12288 : wd3 < -12288 ? -12288 : wd3;
    // UPPOL1
    wd1 = sign(this.p[0]) === sign(this.p[1]!) ? 192 : -192;
    wd2 = (this.a[1]! * 32640) >> 15;
    this.ap[1] = sat(wd1 + wd2);
    wd3 = sat(15360 - this.ap[2]);
    if (this.ap[1] > wd3) this.ap[1] = wd3;
    else if (this.ap[1] < -wd3) this.ap[1] = -wd3;
    // UPZERO
    const step = d === 0 ? 0 : 128;
    const sd = sign(d);
    for (let i = 1; i < 7; i++) {
      const w = sign(this.d[i]!) === sd ? step : -step;
      this.bp[i] = sat(w + ((this.b[i]! * 32640) >> 15));
    }
    // DELAYA
    for (let i = 6; i > 0; i--) {
      this.d[i] = this.d[i - 1]!;
      this.b[i] = this.bp[i]!;
    }
    for (let i = 2; i > 0; i--) {
      this.r[i] = this.r[i - 1]!;
      this.p[i] = this.p[i - 1]!;
      this.a[i] = this.ap[i]!;
    }
    // FILTEP, FILTEZ, PREDIC
    const p1 = (this.a[1]! * sat(this.r[1]! + this.r[1]!)) >> 15;
    const p2 = (this.a[2]! * sat(this.r[2]! + this.r[2]!)) >> 15;
    this.sp = sat(p1 + p2);
    let sz = 0;
    for (let i = 6; i > 0; i--) sz += (this.b[i]! * sat(this.d[i]! + this.d[i]!)) >> 15;
    this.sz = sat(sz);
    this.s = sat(this.sp + this.sz);
  }
}

export class G722Encoder {
  private readonly x = new Array<number>(24).fill(0);
  private readonly low = new Band(32);
  private readonly high = new Band(8);

  /** 16 kHz samples (even count) -> one byte per two samples. */
  encode(pcm: Int16Array): Buffer {
    const out = Buffer.alloc(pcm.length >> 1);
    this.encodeInto(pcm, out, 0);
    return out;
  }

  /** Encodes into out from offset; returns the bytes written. */
  encodeInto(pcm: Int16Array, out: Uint8Array, offset: number): number {
    const { x, low, high } = this;
    let o = offset;
    for (let j = 0; j + 1 < pcm.length; j += 2, o++) {
      // QMF analysis
      for (let i = 0; i < 22; i++) x[i] = x[i + 2]!;
      x[22] = pcm[j]!;
      x[23] = pcm[j + 1]!;
      let odd = 0;
      let even = 0;
      for (let i = 0; i < 12; i++) {
        odd += x[2 * i]! * QMF[i]!;
        even += x[2 * i + 1]! * QMF[11 - i]!;
      }
      const xl = (even + odd) >> 14;
      const xh = (even - odd) >> 14;
      // lower band: 6-bit quantiser, 4-bit for the predictor
      const el = sat(xl - low.s);
      const ml = el >= 0 ? el : -(el + 1);
      let i = 1;
      for (; i < 30; i++) if (ml < (Q6[i]! * low.det) >> 12) break;
      const ilow = el < 0 ? ILN[i]! : ILP[i]!;
      const ril = ilow >> 2;
      const dlow = (low.det * QM4[ril]!) >> 15;
      low.scale(WL[RL42[ril]!]!, 18432, 8);
      low.update(dlow);
      // upper band: 2-bit quantiser
      const eh = sat(xh - high.s);
      const mh = eh >= 0 ? eh : -(eh + 1);
      const mih = mh >= (564 * high.det) >> 12 ? 2 : 1;
      const ihigh = eh < 0 ? IHN[mih]! : IHP[mih]!;
      const dhigh = (high.det * QM2[ihigh]!) >> 15;
      high.scale(WH[RH2[ihigh]!]!, 22528, 10);
      high.update(dhigh);
      out[o] = (ihigh << 6) | ilow;
    }
    return o - offset;
  }
}

export class G722Decoder {
  private readonly x = new Array<number>(24).fill(0);
  private readonly low = new Band(32);
  private readonly high = new Band(8);

  /** bytes -> 16 kHz samples, two per byte. */
  decode(data: Buffer): Int16Array {
    const out = new Int16Array(data.length * 2);
    this.decodeInto(data, 0, data.length, out);
    return out;
  }

  /** Decodes data[start, end) into out; returns the samples written (two per byte). */
  decodeInto(data: Uint8Array, start: number, end: number, out: Int16Array): number {
    const { x, low, high } = this;
    for (let j = start; j < end; j++) {
      const code = data[j]!;
      const ilow = code & 0x3f;
      const ihigh = (code >> 6) & 3;
      // lower band: output from the 6-bit inverse quantiser, adaptation from the 4-bit one
      let rlow = sat(low.s + ((low.det * QM6[ilow]!) >> 15));
      rlow = rlow > 16383 ? 16383 : rlow < -16384 ? -16384 : rlow;
      const ril = ilow >> 2;
      const dlowt = (low.det * QM4[ril]!) >> 15;
      low.scale(WL[RL42[ril]!]!, 18432, 8);
      low.update(dlowt);
      // upper band
      const dhigh = (high.det * QM2[ihigh]!) >> 15;
      let rhigh = sat(dhigh + high.s);
      rhigh = rhigh > 16383 ? 16383 : rhigh < -16384 ? -16384 : rhigh;
      high.scale(WH[RH2[ihigh]!]!, 22528, 10);
      high.update(dhigh);
      // QMF synthesis
      for (let i = 0; i < 22; i++) x[i] = x[i + 2]!;
      x[22] = rlow + rhigh;
      x[23] = rlow - rhigh;
      let o1 = 0;
      let o2 = 0;
      for (let i = 0; i < 12; i++) {
        o2 += x[2 * i]! * QMF[i]!;
        o1 += x[2 * i + 1]! * QMF[11 - i]!;
      }
      out[2 * (j - start)] = sat(o1 >> 11);
      out[2 * (j - start) + 1] = sat(o2 >> 11);
    }
    return (end - start) * 2;
  }
}

/** A G.722 codec for one RTP stream (encoder and decoder keep state per stream). */
export function g722(): Codec & { name: 'G722' } {
  const enc = new G722Encoder();
  const dec = new G722Decoder();
  return {
    name: 'G722',
    payloadType: 9,
    rate: 16000,
    encode: (pcm) => enc.encode(pcm),
    decode: (p) => dec.decode(p),
    encodeInto: (pcm, out, offset) => enc.encodeInto(pcm, out, offset),
    decodeInto: (p, start, end, out) => dec.decodeInto(p, start, end, out),
  };
}
