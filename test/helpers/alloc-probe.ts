// Run by test/media/alloc.test.ts in a child process with --expose-gc: drives one call's
// audio path by hand (no timers, no sockets) and prints the JavaScript heap
// bytes allocated per 20 ms packet, once the code is warm. The path: the
// microphone frame through the hands-free chain (echo canceller with the
// mixer's reference), encoding into a packet; a received packet parsed into
// the jitter buffer, decoded and written to the mixer; two 10 ms mixer frames
// (the call at 8 kHz resampled to 16 kHz) handed to the sink and the reference.
import { Mixer } from '../../src/audio/mixer.js';
import { NullSink } from '../../src/audio/sinks.js';
import { RtpStream } from '../../src/intercom/media/rtp-stream.js';
import type { RtpSocket } from '../../src/intercom/media/rtp-socket.js';
import { CODECS } from '../../src/audio/codecs/index.js';
import { HandsFreeInput } from '../../src/dsp/handsfree.js';
import type { AudioInput, FrameTimeListener } from '../../src/audio/types.js';
import { KioskConfigSchema } from '../../src/config/schema/kiosk.js';
import { Value } from '@sinclair/typebox/value';

const codecName = (process.argv[2] ?? 'PCMU') as 'PCMU' | 'PCMA' | 'G722';
const mode = (process.argv[3] ?? 'aec') as 'aec' | 'off';

class ManualMic implements AudioInput {
  readonly rate = 8000;
  private ls: FrameTimeListener[] = [];
  readonly frame = new Int16Array(160);
  onFrame(l: FrameTimeListener) {
    this.ls.push(l);
    return () => (this.ls = this.ls.filter((x) => x !== l));
  }
  async start() {}
  async stop() {}
  emit(at: number) {
    for (let i = 0; i < this.ls.length; i++) this.ls[i]!(this.frame, at);
  }
}

const mixer = new Mixer({ rate: 16000, frameMs: 10, sink: new NullSink() });
const mic = new ManualMic();
for (let i = 0; i < 160; i++) mic.frame[i] = Math.round(3000 * Math.sin(i / 3));
const hfCfg = { ...(Value.Default(KioskConfigSchema.properties.audio.properties.handsFree, {}) as never as object), mode } as never;
const hf = new HandsFreeInput(mic, mixer, hfCfg);
await hf.start();
const stream = new RtpStream(hf, mixer, () => {});
// no socket: sends complete at once (as a synchronous UDP send does), nothing stays queued
(stream as unknown as { sock: Partial<RtpSocket> }).sock = { kind: 'node', send: () => {}, sendQueueEmpty: () => true, close: () => {} };
const codec = CODECS[codecName]();
stream.configure({ codec, payloadType: codec.payloadType, remote: { host: '127.0.0.1', port: 9 }, direction: 'sendrecv' });
clearTimeout((stream as unknown as { sendTimer: NodeJS.Timeout }).sendTimer); // we drive it by hand
const s = stream as unknown as { sendFrame(): void; receive(b: Buffer, len: number, host: string, port: number, arrival: number): void; playOne(): void; playTimer?: NodeJS.Timeout };

// a received packet, re-stamped in place each time
const samples = (codec.rate * 20) / 1000;
const pkt = Buffer.alloc(12 + (codecName === 'G722' ? samples / 2 : samples));
pkt[0] = 0x80;
pkt[1] = codec.payloadType;
pkt.writeUInt32BE(0x1234, 8);
codec.encodeInto(mic.frame.length === samples ? mic.frame : new Int16Array(samples), pkt, 12);
const rinfo = { address: '127.0.0.1', port: 9, family: 'IPv4', size: pkt.length };

let t = 1000;
let seq = 0;
function packet(): void {
  mic.emit(t + 20);
  s.sendFrame();
  pkt.writeUInt16BE(seq, 2);
  pkt.writeUInt32BE(seq * 160, 4);
  seq = (seq + 1) & 0xffff;
  s.receive(pkt, pkt.length, rinfo.address, rinfo.port, t);
  clearTimeout(s.playTimer);
  s.playOne();
  // while only the call plays the mixer takes one 20 ms frame per packet (mixer.ts callFrameMs); the 10 ms pair in turn
  if (seq & 1) mixer.mixFrame(t, mixer.callFrameSamples);
  else {
    mixer.mixFrame(t);
    mixer.mixFrame(t + 10);
  }
  t += 20;
}

for (let i = 0; i < 10000; i++) packet(); // warm: let the optimising compiler take the hot functions
const gc = (globalThis as { gc?: () => void }).gc!;
const v8 = await import('node:v8');
const { PerformanceObserver } = await import('node:perf_hooks');
let gcs = 0;
const obs = new PerformanceObserver((l) => (gcs += l.getEntries().length));
obs.observe({ entryTypes: ['gc'] });

/** Heap bytes per call of fn (and external ArrayBuffer bytes), with no collection in between; best of 3. */
async function perCall(fn: () => void, n: number): Promise<{ heap: number; external: number }> {
  let best = { heap: Infinity, external: Infinity };
  for (let attempt = 0; attempt < 3; attempt++) {
    gc();
    await new Promise((r) => setTimeout(r, 50)); // let the observer report that collection first
    const before = gcs;
    const e0 = process.memoryUsage().arrayBuffers;
    const u0 = v8.getHeapStatistics().used_heap_size;
    for (let i = 0; i < n; i++) fn();
    const u1 = v8.getHeapStatistics().used_heap_size;
    const e1 = process.memoryUsage().arrayBuffers;
    await new Promise((r) => setTimeout(r, 50));
    if (gcs !== before) continue; // a collection in between: the difference means nothing
    if ((u1 - u0) / n < best.heap) best = { heap: (u1 - u0) / n, external: (e1 - e0) / n };
  }
  return best;
}

// Node 20's performance.now() allocates (process.hrtime() makes an array): measure what one call costs here
const out = new Float64Array(1);
const clock = () => {
  out[0] = performance.now();
};
for (let i = 0; i < 20000; i++) clock();
const now = await perCall(clock, 3000);
const path = await perCall(packet, 3000);
// clock reads per packet on this path: two mixer frames, one received packet (jitter statistics)
const CLOCK_READS = 3;
obs.disconnect();
console.log(
  JSON.stringify({
    codec: codecName,
    mode,
    running: hf.status.running,
    bytesPerPacket: path.heap,
    externalBytesPerPacket: path.external,
    clockBytesPerCall: now.heap,
    ownBytesPerPacket: path.heap - CLOCK_READS * now.heap,
    notOptimized: notOptimized(),
  }),
);

/**
 * The path's methods that ran but are not optimised code now (with --allow-natives-syntax; else undefined):
 * unoptimised code boxes numbers that optimised code keeps in registers, so a figure over the bound with
 * names here points at the compiler, not at an allocation written in our code.
 */
function notOptimized(): string[] | undefined {
  let status: (f: unknown) => number;
  try {
    status = new Function('f', 'return %GetOptimizationStatus(f)') as (f: unknown) => number;
  } catch {
    return undefined;
  }
  const IS_LAZY = 1 << 18; // never compiled: never ran
  const OPTIMIZED = 1 << 4;
  const names: string[] = [];
  // inlined callees show here too (only their caller has optimised code): read the list from the top, packet first
  const objects: [string, object][] = [['probe', { packet }], ['Mixer', Object.getPrototypeOf(mixer)], ['RtpStream', Object.getPrototypeOf(stream)], ['HandsFreeInput', Object.getPrototypeOf(hf)], ['codec', codec]];
  for (const [owner, proto] of objects) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, key) as PropertyDescriptor | undefined;
      const f = d?.value;
      if (typeof f !== 'function' || key === 'constructor') continue;
      const st = status(f);
      if (!(st & IS_LAZY) && !(st & OPTIMIZED)) names.push(`${owner}.${key}`);
    }
  }
  return names;
}
stream.close();
hf.close();
mixer.stop();
process.exit(0);
