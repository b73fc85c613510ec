// alarm: how fast the alarm comes back and goes on.
//   alarm_resume_ms       a kiosk with an open alarm is SIGKILLed and started
//                         again: its "ready" log line -> the INVITE reaching the
//                         desk (negative: the INVITE left before "ready")
//   resend_after_drop_ms  the desk hangs up without acknowledging: the BYE
//                         reaching the kiosk's SIP socket -> the re-sent INVITE
//                         reaching the desk (includes the fdatasync of the new
//                         'calling' transition)
// The desk is sipp behind a UDP tap that timestamps each new INVITE.
// (event_record_p99_us of this bench belongs to the event journal work.)
import dgram from 'node:dgram';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import pino from 'pino';
import { startSipp } from '../src/testbed/sipp.js';
import { start, type Managed } from '../src/testbed/proc.js';
import { Kiosk } from '../src/kiosk/app.js';
import { loadKioskConfig } from '../src/config/load.js';
import { kioskConfigFile, REPO } from '../test/helpers/processes.js';
import { scenario } from '../test/intercom/helpers.js';
import { percentile } from './stats.js';
import type { Report } from './run.js';

const RESUMES = 10;
const DROPS = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Relays UDP to the desk; notes when each new INVITE reaches it (wall clock and monotonic). */
async function tap(deskPort: number) {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const ups = new Map<string, dgram.Socket>();
  const seen = new Set<string>();
  const invites: { wall: number; mono: number }[] = [];
  sock.on('message', (msg, from) => {
    if (msg.subarray(0, 7).toString() === 'INVITE ') {
      const callId = /Call-ID:\s*(\S+)/i.exec(msg.toString())?.[1] ?? '';
      if (!seen.has(callId)) {
        seen.add(callId);
        invites.push({ wall: Date.now(), mono: performance.now() });
      }
    }
    const key = `${from.address}:${from.port}`;
    let up = ups.get(key);
    if (!up) {
      up = dgram.createSocket('udp4');
      up.bind(0, '127.0.0.1');
      up.on('message', (back) => sock.send(back, from.port, from.address));
      ups.set(key, up);
    }
    up.send(msg, deskPort, '127.0.0.1');
  });
  return { uri: `sip:desk@127.0.0.1:${sock.address().port}`, invites, close: () => (sock.close(), ups.forEach((s) => s.close())) };
}

async function until<T>(fn: () => T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

export async function run(report: Report): Promise<void> {
  await resume(report);
  await resend(report);
}

async function resume(report: Report): Promise<void> {
  const desk = await startSipp({ scenario: scenario('desk-no-answer.xml'), args: ['-m', String(RESUMES * 3)] });
  const t = await tap(desk.port);
  const { file } = kioskConfigFile({
    sip: { targets: { emergency: [{ uri: t.uri, ringTimeoutS: 60 }], information: [{ uri: t.uri }] } },
    audio: { output: { sink: 'null' }, input: { source: 'silence' } },
  });
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'hp-bench-'));
  const launch = async () => {
    const p = start('kiosk', process.execPath, [path.join(REPO, 'dist/src/cli.js'), 'kiosk', '--config', file], { cwd });
    const line = JSON.parse(await p.waitFor(/"msg":"ready"/, 30_000)) as { time: string; local: string };
    return { p, ready: Date.parse(line.time), url: line.local };
  };
  const kill = async (p: Managed) => {
    process.kill(-p.pid, 'SIGKILL');
    await p.exited;
    await p.stop();
  };
  let k = await launch();
  await fetch(k.url + 'sim/press', { method: 'POST', body: JSON.stringify({ input: 'emergency', ms: 60 }) });
  await until(() => t.invites.length >= 1 || undefined, 10_000, 'first INVITE');
  const fromReady: number[] = [];
  for (let i = 0; i < RESUMES; i++) {
    await sleep(300);
    await kill(k.p);
    const before = t.invites.length;
    k = await launch();
    const inv = await until(() => t.invites[before], 10_000, 'INVITE after the restart');
    fromReady.push(inv.wall - k.ready);
  }
  await kill(k.p);
  t.close();
  await desk.stop();
  report('alarm_resume_ms', percentile(fromReady, 50), 'ms', `median of ${RESUMES} SIGKILL restarts with an open alarm, "ready" log line to INVITE at the desk (ms clock resolution); compiled kiosk`);
  report('alarm_resume_max_ms', Math.max(...fromReady), 'ms', `worst of the ${RESUMES}`);
}

async function resend(report: Report): Promise<void> {
  // A desk that answers, talks 1.5 s and hangs up without acknowledging: the alarm is re-sent to it at once, again and again.
  const desk = await startSipp({ scenario: scenario('desk-answer-bye.xml'), args: ['-m', String(DROPS * 2), '-rtp_echo'] });
  const t = await tap(desk.port);
  const { file } = kioskConfigFile({
    sip: { targets: { emergency: [{ uri: t.uri, ringTimeoutS: 10 }], information: [{ uri: t.uri }] } },
    audio: { output: { sink: 'null' }, input: { source: 'silence' } },
    log: { level: 'silent' },
  });
  const { config, dir } = loadKioskConfig(file);
  const kiosk = new Kiosk({ config, configDir: dir, logDestination: pino.destination('/dev/null') });
  await kiosk.start();
  const transport = kiosk.intercom!.transport!;
  const byes: number[] = [];
  // Timestamp the desk's BYE as it reaches the kiosk's SIP socket, before sip.js parses it.
  const deliver = transport.onMessage!;
  transport.onMessage = (m: string) => {
    if (m.startsWith('BYE ')) byes.push(performance.now());
    deliver(m);
  };
  kiosk.bus.emit('call.requested', { kind: 'emergency', source: 'button' });
  const gaps: number[] = [];
  for (let i = 0; i < DROPS; i++) {
    const n = byes.length;
    await until(() => byes.length > n || undefined, 20_000, `BYE ${i + 1}`);
    const bye = byes[n]!;
    const inv = await until(() => t.invites.find((x) => x.mono > bye), 5000, `re-send ${i + 1}`);
    gaps.push(inv.mono - bye);
  }
  await kiosk.alarm!.reset(undefined, 'local', 'bench over');
  await kiosk.stop();
  t.close();
  await desk.stop();
  report('resend_after_drop_ms', percentile(gaps, 50), 'ms', `median of ${DROPS} drops: desk BYE at the kiosk socket -> re-sent INVITE at the desk, journal fdatasync included`);
  report('resend_after_drop_p99_ms', percentile(gaps, 99), 'ms', `${DROPS} drops`);
}
