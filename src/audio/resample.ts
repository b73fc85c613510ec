// Sample-rate conversion through libsamplerate (WASM build): stateful per
// stream, so 20 ms chunks of a live page join without clicks. Creating a
// converter instantiates a WASM module (a few ms), hence async; the mixer
// buffers a stream's input meanwhile.
import { createRequire } from 'node:module';

interface Src {
  full(dataIn: Float32Array): Float32Array;
  simple(dataIn: Float32Array): Float32Array;
  destroy(): void;
}
const require = createRequire(import.meta.url);
const lib = require('@alexanderolsen/libsamplerate-js') as {
  create(ch: number, inRate: number, outRate: number, o: { converterType: number }): Promise<Src>;
  ConverterType: { SRC_SINC_FASTEST: number; SRC_SINC_MEDIUM_QUALITY: number };
};

export interface Resampler {
  process(input: Int16Array): Int16Array;
  destroy(): void;
}

function toFloat(x: Int16Array): Float32Array {
  const f = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) f[i] = x[i]! / 32768;
  return f;
}

function toInt(f: Float32Array): Int16Array {
  const out = new Int16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = Math.round(f[i]! * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** A streaming converter: feed chunks in order, get the converted chunks back. */
export async function createResampler(inRate: number, outRate: number): Promise<Resampler> {
  const src = await lib.create(1, inRate, outRate, { converterType: lib.ConverterType.SRC_SINC_FASTEST });
  return {
    process: (input) => (input.length ? toInt(src.full(toFloat(input))) : new Int16Array(0)),
    destroy: () => src.destroy(),
  };
}

/** Whole-buffer conversion (stored clips and messages at another rate). */
export async function resampleAll(input: Int16Array, inRate: number, outRate: number): Promise<Int16Array> {
  if (inRate === outRate) return input;
  const src = await lib.create(1, inRate, outRate, { converterType: lib.ConverterType.SRC_SINC_MEDIUM_QUALITY });
  try {
    return toInt(src.simple(toFloat(input)));
  } finally {
    src.destroy();
  }
}
