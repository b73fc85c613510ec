// dsp: the hands-free chain on the synthetic room (src/dsp/room.ts: a bundled
// spoken message through a clipping loudspeaker, 20 ms delay, 100 ms decaying
// noise tail, -70 dBFS microphone noise; the near end says another message).
//   aec_erle_db              far end only: echo at the microphone / what is sent on, after 2 s of convergence
//   doubletalk_near_loss_db  both talk: loss of the near-end talker through the chain (least-squares gain of the output on it)
//   aec_cpu_pct              one call's chain (canceller, residual echo + noise suppression, gain, reference
//                            resampling 16 -> 8 kHz), % of one core, 20 ms frames processed back to back
// The kiosk's microphone runs at 8 kHz: those are the headline figures; the
// 16 kHz ones are for G.722 microphones.
import { loadDsp } from '../src/dsp/native.js';
import { bundledTalkers, runRoom } from '../src/dsp/room-measure.js';
import { VoiceProcessor, VOICE_DEFAULTS } from '../src/dsp/voice.js';
import { EchoReference } from '../src/dsp/reference.js';
import { findAudioDir } from '../src/audio/messages.js';
import type { Report } from './run.js';

function chainCpuPct(rate: number, seconds: number): number {
  const dsp = loadDsp().dsp!;
  const N = rate / 50;
  const { far, near } = bundledTalkers(dsp, findAudioDir(), 16000);
  const proc = new VoiceProcessor(dsp, { ...VOICE_DEFAULTS, rate, frameSamples: N });
  const ref = new EchoReference(rate, 16000, dsp, 1000, 160);
  const spk = new Int16Array(160);
  const mic = new Int16Array(N);
  const refBuf = new Int16Array(N);
  const out = new Int16Array(N);
  const frames = seconds * 50;
  const c0 = process.cpuUsage();
  for (let f = 0; f < frames; f++) {
    // two 10 ms loudspeaker frames (16 kHz) into the reference, one 20 ms microphone frame out
    for (let h = 0; h < 2; h++) {
      const base = ((f * 2 + h) * 160) % (far.length - 160);
      for (let i = 0; i < 160; i++) spk[i] = far[base + i]!;
      ref.push(spk, f * 20 + h * 10);
    }
    const nb = (f * N) % (near.length - N);
    for (let i = 0; i < N; i++) mic[i] = near[nb + i]! >> 1;
    ref.read(f * 20 + 20, refBuf);
    proc.process(mic, refBuf, out);
  }
  const c = process.cpuUsage(c0);
  proc.close();
  ref.close();
  return ((c.user + c.system) / 1000 / (seconds * 1000)) * 100;
}

export async function run(report: Report): Promise<void> {
  const { dsp, reason } = loadDsp();
  if (!dsp) throw new Error(`helppoint-dsp unavailable: ${reason}`);
  const dir = findAudioDir();
  const r8 = runRoom({ dsp, rate: 8000, ...bundledTalkers(dsp, dir, 8000), convergeS: 2 });
  report('aec_erle_db', r8.erleDb, 'dB', `8 kHz, 128 ms tail, canceller + residual echo and noise suppression (AGC off), after 2 s; the adaptive filter alone ${r8.linearErleDb.toFixed(1)} dB`);
  report('doubletalk_near_loss_db', r8.nearLossDb, 'dB', '8 kHz, same chain; includes about 1.8 dB of the canceller\'s DC notch on the low synthetic voice');
  // CPU: median of 3 runs of 30 s of audio
  const runs = [0, 1, 2].map(() => chainCpuPct(8000, 30)).sort((a, b) => a - b);
  report('aec_cpu_pct', runs[1]!, '%', `8 kHz: canceller, residual echo and noise suppression, AGC, 16->8 kHz reference resampling; 30 s of audio back to back, median of 3 (${runs.map((x) => x.toFixed(2)).join(', ')})`);
  const r16 = runRoom({ dsp, rate: 16000, ...bundledTalkers(dsp, dir, 16000), convergeS: 2 });
  report('aec_erle_db_16k', r16.erleDb, 'dB', `16 kHz, same room and chain; the adaptive filter alone ${r16.linearErleDb.toFixed(1)} dB`);
  report('doubletalk_near_loss_db_16k', r16.nearLossDb, 'dB', '16 kHz, same chain');
  const runs16 = [0, 1, 2].map(() => chainCpuPct(16000, 30)).sort((a, b) => a - b);
  report('aec_cpu_pct_16k', runs16[1]!, '%', '16 kHz: same chain, no reference resampling, median of 3');
}
