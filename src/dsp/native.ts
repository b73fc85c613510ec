// Lazy access to the native DSP addon (helppoint-dsp, libspeexdsp): loaded by
// its first user (the intercom's start, which picks the calls' RTP socket
// kind; a resampler, echo canceller or preprocessor elsewhere). When it cannot
// load, callers get the reason once and fall back (Node's dgram RTP socket; the
// WASM resampler; no echo cancelling, with a fault raised by the caller).
import { createRequire } from 'node:module';
import path from 'node:path';

export type Dsp = typeof import('helppoint-dsp');

let cached: { dsp: Dsp; reason?: undefined } | { dsp?: undefined; reason: string } | undefined;

/**
 * The addon, or why it is unavailable. HELPPOINT_DSP_MODULE names another
 * installed copy of the package (a folder), for tests of a failed install.
 */
export function loadDsp(): { dsp: Dsp; reason?: undefined } | { dsp?: undefined; reason: string } {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const where = process.env.HELPPOINT_DSP_MODULE ? path.resolve(process.env.HELPPOINT_DSP_MODULE) : 'helppoint-dsp';
  try {
    cached = { dsp: require(where) as Dsp };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    cached = { reason: e.code === 'MODULE_NOT_FOUND' ? `helppoint-dsp is not installed (${e.message.split('\n')[0]})` : e.message };
  }
  return cached;
}

/** The addon or undefined, without the reason (for code with a fallback of its own). */
export function dspOrUndefined(): Dsp | undefined {
  return loadDsp().dsp;
}
