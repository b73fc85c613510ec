// Shared set-up for alarm tests: a real kiosk process (restartable on the same
// store), its event log and alarm journal, its lamps, and a UDP tap that
// timestamps each INVITE reaching a desk.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { kioskConfigFile, startKioskProcess, postJson, type KioskProc } from '../helpers/processes.js';
import { until } from '../helpers/tmp.js';
import type { AlarmState } from '../../src/alarm/events.js';
import { readJournal } from '../../src/store/event-journal.js';

export interface LoggedEvent {
  type: string;
  at: string;
  data: any;
}

export interface AlarmRig {
  file: string;
  dir: string;
  kiosk: KioskProc;
  /** starts the kiosk again on the same config and store; resolves at "ready" */
  restart(env?: NodeJS.ProcessEnv): Promise<KioskProc>;
  /** SIGKILL, as a power cut would */
  kill(): Promise<void>;
  events(): LoggedEvent[];
  alarm(): AlarmState[];
  /** "state(by|reason)" per transition, for readable assertions */
  trail(): string[];
  journal(): AlarmState[];
  waitAlarm(pred: (e: AlarmState) => boolean, what: string, timeoutMs?: number): Promise<AlarmState>;
  lamps(): Promise<{ yellow: boolean; green: boolean; beacon: boolean }>;
  press(input: string, ms?: number): Promise<void>;
  input(input: string, active: boolean): Promise<void>;
  health(): Promise<any>;
}

export const RESET_PIN = { reset: { pin: 16, activeLow: true, pull: 'up', debounceMs: 30 } };

/** `compiled`: run the build (dist/, made by the test script's set-up), for tests that restart the kiosk many times. */
export async function alarmRig(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, opts: { compiled?: boolean } = {}): Promise<AlarmRig> {
  const io = (overrides.io ?? {}) as Record<string, unknown>;
  const { file, dir } = kioskConfigFile({ ...overrides, io: { ...io, inputs: { ...RESET_PIN, ...((io.inputs as object) ?? {}) } } });
  const rig: AlarmRig = {
    file,
    dir,
    kiosk: await startKioskProcess(file, env, opts),
    async restart(more = {}) {
      rig.kiosk = await startKioskProcess(file, { ...env, ...more }, opts);
      return rig.kiosk;
    },
    async kill() {
      const p = rig.kiosk.proc;
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await p.exited;
      await p.stop();
    },
    events() {
      try {
        return readJournal(path.join(dir, 'data')).events as LoggedEvent[];
      } catch {
        return [];
      }
    },
    alarm: () => rig.events().filter((e) => e.type === 'alarm.state').map((e) => e.data as AlarmState),
    trail: () => rig.alarm().map((a) => a.state + (a.by || a.reason ? `(${[a.by, a.reason].filter(Boolean).join('|')})` : '')),
    journal() {
      try {
        return readFileSync(path.join(dir, 'data/alarm-journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AlarmState);
      } catch {
        return [];
      }
    },
    async waitAlarm(pred, what, timeoutMs = 15_000) {
      return until(() => rig.alarm().find(pred), timeoutMs, `alarm ${what}`).catch((err: Error) => {
        throw new Error(`${err.message} (seen: ${rig.trail().join(', ')})`);
      });
    },
    async lamps() {
      const s = (await (await fetch(rig.kiosk.url + 'sim/state')).json()) as { outputs: Record<string, boolean> };
      return { yellow: s.outputs.lampYellow!, green: s.outputs.lampGreen!, beacon: s.outputs.beacon! };
    },
    async press(input, ms = 60) {
      const r = await postJson(rig.kiosk.url + 'sim/press', { input, ms });
      if (r.status !== 200) throw new Error(`press ${input}: ${JSON.stringify(r.body)}`);
    },
    async input(input, active) {
      const r = await postJson(rig.kiosk.url + 'sim/input', { input, active });
      if (r.status !== 200) throw new Error(`input ${input}: ${JSON.stringify(r.body)}`);
    },
    health: async () => (await fetch(rig.kiosk.url + 'health')).json(),
  };
  return rig;
}

export interface Tap {
  port: number;
  uri: string;
  /** initial INVITEs that reached the desk through the tap (performance.timeOrigin-based ms), with their text */
  invites: { at: number; text: string }[];
  close(): void;
}

/** A UDP relay in front of a desk that notes when each new INVITE reaches it (retransmissions and re-INVITEs are not counted). */
export async function inviteTap(deskPort: number, user = 'desk'): Promise<Tap> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const ups = new Map<string, dgram.Socket>();
  const seen = new Set<string>();
  const invites: Tap['invites'] = [];
  sock.on('message', (msg, from) => {
    const text = msg.toString();
    if (text.startsWith('INVITE ')) {
      const callId = /^Call-ID:\s*(\S+)/im.exec(text)?.[1] ?? '';
      if (!seen.has(callId)) {
        seen.add(callId);
        invites.push({ at: Date.now(), text });
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
  const port = sock.address().port;
  return {
    port,
    uri: `sip:${user}@127.0.0.1:${port}`,
    invites,
    close: () => {
      sock.close();
      ups.forEach((s) => s.close());
    },
  };
}

export function header(text: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(.*?)\\s*$`, 'im').exec(text)?.[1];
}
