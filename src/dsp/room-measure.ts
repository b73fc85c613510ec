// Echo canceller figures on the synthetic room (test/dsp and bench/dsp):
//   ERLE: far end only, after a convergence time: 10 log10(echo power at the
//     microphone / power of what the chain sends on), over the rest.
//   near-end loss in double talk: both talk; how much of the near-end talker
//     survives the chain, measured as the least-squares gain of the output on
//     the near-end signal (best lag within two frames), so residual echo in
//     the output cannot pass for near-end speech.
// Both run the whole chain (canceller, residual echo and noise suppression);
// AGC is off here since a gain stage would change the levels being compared.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseWav } from '../audio/wav.js';
import type { Dsp } from './native.js';
import { SyntheticRoom, type RoomOptions } from './room.js';
import { VoiceProcessor, VOICE_DEFAULTS, type VoiceOptions } from './voice.js';

export interface RoomRun {
  erleDb: number;
  /** the canceller alone (no residual echo suppression) */
  linearErleDb: number;
  nearLossDb: number;
  /** CPU time of the chain per second of audio, ms (the room simulation excluded) */
  cpuMsPerS: number;
}

export interface RoomRunOptions {
  dsp: Dsp;
  rate: number;
  /** the far-end talker, played by the loudspeaker (at rate) */
  far: Int16Array;
  /** the near-end talker (at rate) */
  near: Int16Array;
  convergeS?: number;
  room?: Partial<RoomOptions>;
  voice?: Partial<VoiceOptions>;
}

function frames(opts: RoomRunOptions, voice: Partial<VoiceOptions>, withNear: boolean) {
  const rate = opts.rate;
  const N = rate / 50;
  const room = new SyntheticRoom({ rate, ...opts.room });
  const proc = new VoiceProcessor(opts.dsp, { ...VOICE_DEFAULTS, agc: false, rate, frameSamples: N, ...opts.voice, ...voice });
  const total = Math.floor(opts.far.length / N) * N;
  const echo = new Float64Array(total);
  const mic = new Int16Array(total);
  const out = new Int16Array(total);
  const echoBlock = new Float64Array(N);
  const micBlock = new Int16Array(N);
  const outBlock = new Int16Array(N);
  let cpu = 0;
  for (let i = 0; i < total; i += N) {
    const ref = opts.far.subarray(i, i + N);
    room.echo(ref, echoBlock);
    room.microphone(echoBlock, withNear ? opts.near.subarray(i, i + N) : undefined, micBlock);
    const c0 = process.cpuUsage();
    proc.process(micBlock, ref, outBlock);
    const c = process.cpuUsage(c0);
    cpu += (c.user + c.system) / 1000;
    echo.set(echoBlock, i);
    mic.set(micBlock, i);
    out.set(outBlock, i);
  }
  proc.close();
  return { echo, mic, out, total, cpuMsPerS: cpu / (total / rate) };
}

function power(x: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return s / Math.max(1, to - from);
}

/** Least-squares gain of out on near (best lag 0..maxLag), as a loss in dB. */
function projectionLossDb(out: Int16Array, near: Int16Array, from: number, to: number, maxLag: number): number {
  let best = -Infinity;
  for (let lag = 0; lag <= maxLag; lag++) {
    let xy = 0;
    let yy = 0;
    for (let i = from; i < to - lag; i++) {
      xy += out[i + lag]! * near[i]!;
      yy += near[i]! * near[i]!;
    }
    const g = xy / yy;
    if (g > best) best = g;
  }
  return best > 0 ? -20 * Math.log10(best) : Infinity;
}

export function runRoom(opts: RoomRunOptions): RoomRun {
  const rate = opts.rate;
  const N = rate / 50;
  const from = Math.round((opts.convergeS ?? 2) * rate);
  const echoOnly = frames(opts, {}, false);
  const erleDb = 10 * Math.log10(power(echoOnly.echo, from, echoOnly.total) / power(echoOnly.out, from, echoOnly.total));
  const linear = frames(opts, { denoise: false, echoSuppressDb: 0, echoSuppressActiveDb: 0 }, false);
  const linearErleDb = 10 * Math.log10(power(linear.echo, from, linear.total) / power(linear.out, from, linear.total));
  const dt = frames(opts, {}, true);
  const nearLossDb = projectionLossDb(dt.out, opts.near, from, dt.total, 2 * N);
  return { erleDb, linearErleDb, nearLossDb, cpuMsPerS: echoOnly.cpuMsPerS };
}

/**
 * The talkers of the synthetic room, from the bundled spoken messages: the
 * far end (the desk, played by the loudspeaker) says the evacuation message,
 * the near end (the caller) says "help is on the way", looped to the same length.
 */
export function bundledTalkers(dsp: Dsp, audioDir: string, rate: number): { far: Int16Array; near: Int16Array } {
  const load = (name: string) => {
    const wav = parseWav(readFileSync(path.join(audioDir, 'messages', name)));
    if (wav.rate === rate) return wav.samples;
    const r = new dsp.Resampler(wav.rate, rate, 8);
    const out = new Int16Array(Math.ceil((wav.samples.length * rate) / wav.rate) + 256);
    const n = r.process(wav.samples, out);
    r.close();
    return out.slice(0, n);
  };
  const far = load('evacuation.en.wav');
  const talk = load('help-coming.en.wav');
  const near = new Int16Array(far.length);
  for (let i = 0; i < near.length; i++) near[i] = talk[i % talk.length]!;
  return { far, near };
}
