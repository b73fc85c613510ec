// intercom: emergency calls from a kiosk to a local desk (sipp, answering and
// echoing RTP), and the same desk called by baresip for comparison.
//   invite_latency_p99_ms   button edge -> first INVITE byte at the desk
//   setup_latency_p99_ms    button edge -> 200 OK received and first RTP seen both ways
//   rtp_send_jitter_ms      standard deviation of the 20 ms send interval
//   call_cpu_pct            one active call, % of one core (kiosk process, idle subtracted)
// A UDP tap in front of the desk timestamps what reaches it. The bench kiosk
// has debounce 0 so the figures show the call path alone (debounce is
// reported by the buttons bench).
import dgram from 'node:dgram';
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
import type { Report } from './run.js';
import pino from 'pino';

const CALLS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Relays UDP between callers and the desk, noting when each INVITE first reaches it. */
async function tap(deskPort: number) {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const toDesk = new Map<string, dgram.Socket>();
  const invites: number[] = [];
  sock.on('message', (msg, from) => {
    if (msg.subarray(0, 7).toString() === 'INVITE ' && !msg.includes('CSeq: 2 INVITE')) invites.push(performance.now());
    const key = `${from.address}:${from.port}`;
    let up = toDesk.get(key);
    if (!up) {
      up = dgram.createSocket('udp4');
      up.bind(0, '127.0.0.1');
      up.on('message', (back) => sock.send(back, from.port, from.address));
      toDesk.set(key, up);
    }
    up.send(msg, deskPort, '127.0.0.1');
  });
  return { port: sock.address().port, invites, close: () => (sock.close(), toDesk.forEach((s) => s.close())) };
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
    const edge = performance.now();
    sim.setInput('emergency', true);
    while (!connectedAt) await sleep(1);
    let sdh: RtpSessionDescriptionHandler | undefined;
    for (;;) {
      const s = (intercom as unknown as { call?: { session?: { sessionDescriptionHandler?: unknown; id: string } } }).call?.session;
      const h = s?.sessionDescriptionHandler;
      if (h instanceof RtpSessionDescriptionHandler && intercom.marks.has(`${s!.id}:first-rtp-in`)) {
        sdh = h;
        const both = Math.max(intercom.marks.get(`${s!.id}:first-rtp-in`)!, intercom.marks.get(`${s!.id}:first-rtp-out`) ?? 0, connectedAt);
        setup.push(both - edge);
        break;
      }
      await sleep(1);
    }
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
  report('setup_latency_p50_ms', percentile(setup, 50), 'ms', 'edge to 200 OK and RTP both ways, desk answering at once');
  report('setup_latency_p99_ms', percentile(setup, 99), 'ms', `${CALLS} calls`);
  report('rtp_send_jitter_ms', jitter[0]!, 'ms', 'stddev of send intervals over 5 s (250 packets)');

  // CPU of one active call in a kiosk process, idle subtracted.
  const kioskCpu = await kioskCallCpu(deskUri);
  report('call_cpu_pct', kioskCpu, '%', 'kiosk process, one call for 10 s, idle subtracted');

  // baresip calling the same desk.
  const bs = await startBaresip({ user: 'bench' });
  const bsSetup: number[] = [];
  const established = () => (bs.proc.output().match(/Call established/g) ?? []).length;
  for (let i = 0; i < CALLS; i++) {
    const n = established();
    const t0 = performance.now();
    await bs.command('dial', deskUri);
    while (established() === n) await sleep(1);
    bsSetup.push(performance.now() - t0);
    await bs.command('hangup');
    await sleep(30);
  }
  report('baresip_setup_latency_p50_ms', percentile(bsSetup, 50), 'ms', 'dial command to "Call established", same desk (RTP not awaited: a lower bound)');
  report('baresip_setup_latency_p99_ms', percentile(bsSetup, 99), 'ms', `${CALLS} calls`);
  await bs.command('dial', deskUri);
  await sleep(1000);
  const c0 = cpuMs(bs.proc.pid);
  await sleep(10_000);
  report('baresip_call_cpu_pct', ((cpuMs(bs.proc.pid) - c0) / 10_000) * 100, '%', 'one call for 10 s');
  await bs.command('hangup');
  await bs.stop();
  t.close();
  await desk.stop();
}

async function kioskCallCpu(deskUri: string): Promise<number> {
  const { file } = kioskConfigFile({
    sip: { targets: { emergency: [{ uri: deskUri, ringTimeoutS: 5 }], information: [{ uri: deskUri }] } },
    audio: { output: { sink: 'null' }, input: { source: 'silence' } },
  });
  const p = start('kiosk', process.execPath, [path.join(REPO, 'dist/src/cli.js'), 'kiosk', '--config', file], { cwd: mkdtempSync(path.join(os.tmpdir(), 'hp-bench-')) });
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
