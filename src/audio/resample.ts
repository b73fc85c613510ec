// Sample-rate conversion: the speex resampler of the native DSP addon
// (helppoint-dsp), stateful per stream so 20 ms chunks of a live page or call
// join without clicks, created synchronously and converting into the
// caller's buffer (no allocation per chunk). When the addon is missing the
// WASM build of libsamplerate is loaded instead (lazily, so a kiosk with the
// addon never pays for it); it is async to create and allocates per chunk.
import { createRequire } from 'node:module';
import { dspOrUndefined } from '../dsp/native.js';

export interface Resampler {
  readonly inRate: number;
  readonly outRate: number;
  /** Most samples convert() can write for n input samples. */
  maxOut(n: number): number;
  /** Converts all of input into output (at least maxOut(input.length) long); returns the samples written. */
  convert(input: Int16Array, output: Int16Array): number;
  /** Converts into a fresh array (allocates: not for hot paths). */
  process(input: Int16Array): Int16Array;
  destroy(): void;
}

/** speex quality for live streams: 3 is speex's VoIP setting */
const LIVE_QUALITY = 3;
/** for stored clips and messages, converted once */
const CLIP_QUALITY = 8;

const maxOutFor = (inRate: number, outRate: number) => (n: number) => Math.ceil((n * outRate) / inRate) + 16;

function nativeResampler(inRate: number, outRate: number, quality: number): Resampler | undefined {
  const dsp = dspOrUndefined();
  if (!dsp) return undefined;
  const r = new dsp.Resampler(inRate, outRate, quality);
  const maxOut = maxOutFor(inRate, outRate);
  return {
    inRate,
    outRate,
    maxOut,
    convert: (input, output) => (input.length ? r.process(input, output) : 0),
    process: (input) => {
      const out = new Int16Array(maxOut(input.length));
      return out.slice(0, r.process(input, out));
    },
    destroy: () => r.close(),
  };
}

/** The native resampler, or undefined when the addon is unavailable (then use createResampler). */
export function createResamplerSync(inRate: number, outRate: number): Resampler | undefined {
  return nativeResampler(inRate, outRate, LIVE_QUALITY);
}

// --- fallback: libsamplerate (WASM) -------------------------------------------------
interface Src {
  full(dataIn: Float32Array): Float32Array;
  simple(dataIn: Float32Array): Float32Array;
  destroy(): void;
}
interface SrcLib {
  create(ch: number, inRate: number, outRate: number, o: { converterType: number }): Promise<Src>;
  ConverterType: { SRC_SINC_FASTEST: number; SRC_SINC_MEDIUM_QUALITY: number };
}
let srcLib: SrcLib | undefined;
function wasm(): SrcLib {
  srcLib ??= createRequire(import.meta.url)('@alexanderolsen/libsamplerate-js') as SrcLib;
  return srcLib;
}

function toFloat(x: Int16Array): Float32Array {
  const f = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) f[i] = x[i]! / 32768;
  return f;
}

function toInt(f: Float32Array, out = new Int16Array(f.length)): Int16Array {
  for (let i = 0; i < f.length; i++) {
    const v = Math.round(f[i]! * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** A streaming converter: the native one at once, else the WASM one. */
export async function createResampler(inRate: number, outRate: number): Promise<Resampler> {
  const n = createResamplerSync(inRate, outRate);
  if (n) return n;
  const lib = wasm();
  const src = await lib.create(1, inRate, outRate, { converterType: lib.ConverterType.SRC_SINC_FASTEST });
  const maxOut = maxOutFor(inRate, outRate);
  const process = (input: Int16Array) => (input.length ? toInt(src.full(toFloat(input))) : new Int16Array(0));
  return {
    inRate,
    outRate,
    maxOut,
    process,
    convert: (input, output) => {
      const o = process(input);
      output.set(o);
      return o.length;
    },
    destroy: () => src.destroy(),
  };
}

/** Whole-buffer conversion (stored clips and messages at another rate). */
export async function resampleAll(input: Int16Array, inRate: number, outRate: number): Promise<Int16Array> {
  if (inRate === outRate) return input;
  const dsp = dspOrUndefined();
  if (dsp) {
    const r = new dsp.Resampler(inRate, outRate, CLIP_QUALITY);
    try {
      // drop the filter's start-up delay, then push zeros through to get the last samples out
      r.skipZeros();
      const want = Math.round((input.length * outRate) / inRate);
      const out = new Int16Array(maxOutFor(inRate, outRate)(input.length + r.inputLatency * 2));
      let n = r.process(input, out);
      if (n < want) n += r.process(new Int16Array(r.inputLatency * 2), out.subarray(n));
      return out.slice(0, Math.min(n, want));
    } finally {
      r.close();
    }
  }
  const lib = wasm();
  const src = await lib.create(1, inRate, outRate, { converterType: lib.ConverterType.SRC_SINC_MEDIUM_QUALITY });
  try {
    return toInt(src.simple(toFloat(input)));
  } finally {
    src.destroy();
  }
}
