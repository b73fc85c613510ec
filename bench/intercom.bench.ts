// intercom: emergency calls from a kiosk to a local desk (sipp, answering and
// echoing RTP), and the same desk called by baresip, measured at the same points.
//   invite_latency_p99_ms         button edge -> first INVITE byte at the desk
//   setup_latency_p99_ms          button edge -> first RTP packet at the desk
//   baresip_setup_latency_p99_ms  dial command -> first RTP packet at the desk
//   rtp_send_jitter_ms            standard deviation of the 20 ms send interval
//   call_cpu_pct / baresip_call_cpu_pct  one call, % of one core, each its own process,
//       both PCMU, both a WAV file as microphone and a discarding sink, both idle subtracted;
//       ours with the hands-free path off (baresip has none), then call_cpu_aec_pct with it on
// A UDP tap in front of the desk timestamps what reaches it: SIP, and RTP (it
// rewrites the desk's SDP so media passes through it). The bench kiosk has
// debounce 0 so the figures show the call path alone (debounce is reported by
// the buttons bench).
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { startSipp } from '../src/testbed/sipp.js';
import { startBaresip } from '../src/testbed/baresip.js';
import { start } from '../src/testbed/proc.js';
import { Kiosk } from '../src/kiosk/app.js';
import { SimDriver } from '../src/io/sim-driver.js';
import { RtpSessionDescriptionHandler } from '../src/intercom/media/index.js';
import { kioskConfigFile, REPO } from '../test/helpers/processes.js';
import { loadKioskConfig } from '../src/config/load.js';
import { scenario } from '../test/intercom/helpers.js';
import { percentile, stddev, cpuMs } from './stats.js';
import { kioskUnitArgs } from './unit.js';
import type { Report } from './run.js';
import pino from 'pino';

const CALLS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Relays UDP between callers and the desk, noting when each INVITE first
 * reaches it; the desk's SDP is rewritten so RTP goes through the tap too,
 * which notes the first RTP packet after it is armed.
 */
async function tap(deskPort: number) {
  const bind = async () => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return s;
  };
  const sock = await bind();
  const rtp = await bind();
  const rtpPort = rtp.address().port;
  let deskRtp = 0;
  const state = { armed: false, firstRtp: 0 };
  const invites: number[] = [];
  const relay = (front: dgram.Socket, to: () => number, rewrite?: (b: Buffer) => Buffer, onIn?: (m: Buffer) => void) => {
    const ups = new Map<string, dgram.Socket>();
    front.on('message', (msg, from) => {
      onIn?.(msg);
      const key = `${from.address}:${from.port}`;
      let up = ups.get(key);
      if (!up) {
        up = dgram.createSocket('udp4');
        up.bind(0, '127.0.0.1');
        up.on('message', (back) => front.send(rewrite ? rewrite(back) : back, from.port, from.address));
        ups.set(key, up);
      }
      up.send(msg, to(), '127.0.0.1');
    });
    return ups;
  };
  const sdp = (b: Buffer) => {
    const text = b.toString('latin1');
    const m = /\r\nm=audio (\d+) /.exec(text);
    if (!m) return b;
    deskRtp = Number(m[1]);
    const [head, body] = text.split('\r\n\r\n', 2) as [string, string];
    const nb = body.replace(/m=audio \d+ /, `m=audio ${rtpPort} `);
    return Buffer.from(`${head.replace(/\r\nContent-Length: *\d+/i, `\r\nContent-Length: ${Buffer.byteLength(nb, 'latin1')}`)}\r\n\r\n${nb}`, 'latin1');
  };
  const sipUps = relay(sock, () => deskPort, sdp, (msg) => {
    if (msg.subarray(0, 7).toString() === 'INVITE ' && !msg.includes('CSeq: 2 INVITE')) invites.push(performance.now());
  });
  const rtpUps = relay(rtp, () => deskRtp, undefined, () => {
    if (state.armed && !state.firstRtp) state.firstRtp = performance.now();
  });
  return {
    port: sock.address().port,
    invites,
    /** start watching for the first RTP packet of the next call */
    arm: () => Object.assign(state, { armed: true, firstRtp: 0 }),
    firstRtp: () => state.firstRtp,
    close: () => {
      sock.close();
      rtp.close();
      sipUps.forEach((s) => s.close());
      rtpUps.forEach((s) => s.close());
    },
  };
}

/** 30 s of speech at 8 kHz (the evacuation message, repeated): the microphone of both callers. */
function speechWav(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-bench-speech-'));
  const out = path.join(dir, 'speech.wav');
  const msg = path.join(REPO, 'audio/messages/evacuation.en.wav');
  execFileSync('sox', [msg, msg, msg, msg, '-r', '8000', '-c', '1', '-b', '16', out]);
  return out;
}

export async function run(report: Report): Promise<void> {
  const desk = await startSipp({ scenario: scenario('desk-answer-now.xml'), args: ['-m', String(CALLS * 3), '-rtp_echo'] });
  const t = await tap(desk.port);
  const deskUri = `sip:desk@127.0.0.1:${t.port}`;
  const { file } = kioskConfigFile({
    sip: { targets: { emergency: [{ uri: deskUri, ringTimeoutS: 5 }], information: [{ uri: deskUri }] }, emergencyCancellable: true },
    io: { inputs: { emergency: { pin: 17, debounceMs: 0 } } },
    audio: { output: { sink: 'null' }, input: { source: 'silence' } },
  });
  const { config, dir } = loadKioskConfig(file);
  const kiosk = new Kiosk({ config, configDir: dir, logDestination: pino.destination('/dev/null') });
  await kiosk.start();
  const sim = kiosk.driver as SimDriver;
  const intercom = kiosk.intercom!;

  const invite: number[] = [];
  const setup: number[] = [];
  const jitter: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const before = t.invites.length;
    let connectedAt = 0;
    const off = kiosk.bus.on('call.state', (e) => e.state === 'connected' && (connectedAt = performance.now()));
    t.arm();
    const edge = performance.now();
    sim.setInput('emergency', true);
    while (!connectedAt) await sleep(1);
    let sdh: RtpSessionDescriptionHandler | undefined;
    for (;;) {
      const s = (intercom as unknown as { call?: { session?: { sessionDescriptionHandler?: unknown; id: string } } }).call?.session;
      const h = s?.sessionDescriptionHandler;
      if (h instanceof RtpSessionDescriptionHandler && intercom.marks.has(`${s!.id}:first-rtp-in`)) {
        sdh = h;
        break;
      }
      await sleep(1);
    }
    while (!t.firstRtp()) await sleep(1);
    setup.push(t.firstRtp() - edge);
    invite.push(t.invites[before]! - edge);
    if (i === 0) {
      // One longer call for send-interval jitter.
      sdh!.stream.recordSendTimes = true;
      await sleep(5000);
      const times = sdh!.stream.sendTimes;
      const intervals = times.slice(1).map((x, k) => x - times[k]!);
      jitter.push(stddev(intervals));
    }
    off();
    sim.setInput('emergency', false);
    kiosk.bus.emit('call.cancel', { source: 'bench' });
    while (intercom.activeCall()) await sleep(2);
    await sleep(20);
  }
  await kiosk.stop();
  report('invite_latency_p50_ms', percentile(invite, 50), 'ms', `${CALLS} calls, edge to INVITE at the desk, debounce excluded`);
  report('invite_latency_p99_ms', percentile(invite, 99), 'ms', `${CALLS} calls`);
  report('setup_latency_p50_ms', percentile(setup, 50), 'ms', 'button edge to the first RTP packet at the desk (desk answering at once; kiosk and tap in the bench process)');
  report('setup_latency_p99_ms', percentile(setup, 99), 'ms', `${CALLS} calls`);
  report('rtp_send_jitter_ms', jitter[0]!, 'ms', 'stddev of send intervals over 5 s (250 packets)');

  // baresip calling the same desk, timed to the same point (first RTP at the desk), same microphone WAV, nothing recorded.
  const wav = speechWav();
  const bs = await startBaresip({ user: 'bench', sourceWav: wav, record: false });
  const bsSetup: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    t.arm();
    const t0 = performance.now();
    await bs.command('dial', deskUri);
    while (!t.firstRtp()) await sleep(1);
    bsSetup.push(t.firstRtp() - t0);
    await bs.command('hangup');
    await sleep(30);
  }
  report('baresip_setup_latency_p50_ms', percentile(bsSetup, 50), 'ms', 'ctrl_tcp dial command to the first RTP packet at the desk (baresip in its own process)');
  report('baresip_setup_latency_p99_ms', percentile(bsSetup, 99), 'ms', `${CALLS} calls`);
  await bs.stop();

  // CPU of one call, each caller in its own process, measured the same way: PCMU, the same 8 kHz speech WAV as
  // microphone, output discarded (our null sink; baresip's aubridge player with nothing attached, no recording),
  // 10 s idle then 10 s in a call, idle subtracted. Ours first without the hands-free path (baresip has none), then with it.
  const note = 'PCMU, 8 kHz speech WAV as microphone, output discarded, 10 s of call minus 10 s idle, own process';
  report('call_cpu_pct', await kioskCallCpu(deskUri, wav, 'off'), '%', `${note}; hands-free off`);
  report('baresip_call_cpu_pct', await baresipCallCpu(deskUri, wav), '%', `${note}; aufile source, aubridge player`);
  report('call_cpu_aec_pct', await kioskCallCpu(deskUri, wav, 'aec'), '%', `${note}; hands-free on (echo canceller, noise suppression, AGC at 8 kHz)`);
  t.close();
  await desk.stop();
}

async function baresipCallCpu(deskUri: string, wav: string): Promise<number> {
  const bs = await startBaresip({ user: 'cpu', sourceWav: wav, record: false });
  await sleep(2000);
  const i0 = cpuMs(bs.proc.pid);
  await sleep(10_000);
  const idle = cpuMs(bs.proc.pid) - i0;
  await bs.command('dial', deskUri);
  await sleep(1500);
  const c0 = cpuMs(bs.proc.pid);
  await sleep(10_000);
  const busy = cpuMs(bs.proc.pid) - c0;
  await bs.command('hangup');
  await bs.stop();
  return ((busy - idle) / 10_000) * 100;
}

async function kioskCallCpu(deskUri: string, wav: string, handsFree: 'off' | 'aec'): Promise<number> {
  const { file } = kioskConfigFile({
    sip: { targets: { emergency: [{ uri: deskUri, ringTimeoutS: 5 }], information: [{ uri: deskUri }] }, codecs: ['PCMU'] },
    audio: { output: { sink: 'null' }, input: { source: 'file', file: wav }, handsFree: { mode: handsFree } },
  });
  const p = start('kiosk', process.execPath, kioskUnitArgs(file), { cwd: mkdtempSync(path.join(os.tmpdir(), 'hp-bench-')) });
  const ready = JSON.parse(await p.waitFor(/"msg":"ready"/, 20_000)) as { local: string };
  await sleep(2000);
  const i0 = cpuMs(p.pid);
  await sleep(10_000);
  const idle = cpuMs(p.pid) - i0;
  await fetch(ready.local + 'sim/press', { method: 'POST', body: JSON.stringify({ input: 'emergency', ms: 60 }) });
  await p.waitFor(/placing (alarm )?call/, 5000);
  await sleep(1500);
  const c0 = cpuMs(p.pid);
  await sleep(10_000);
  const busy = cpuMs(p.pid) - c0;
  await p.stop();
  return ((busy - idle) / 10_000) * 100;
}
