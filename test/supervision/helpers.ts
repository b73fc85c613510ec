// Set-up for supervision tests: a real kiosk process (sim driver, simulated
// room as its microphone so the acoustic loop is real), its event log, and
// small accessors.
import path from 'node:path';
import { kioskConfigFile, startKioskProcess, postJson, type KioskProc } from '../helpers/processes.js';
import { until } from '../helpers/tmp.js';
import { readJournal } from '../../src/store/event-journal.js';
import type { SupervisionTest } from '../../src/supervision/events.js';

export interface Rig {
  dir: string;
  kiosk: KioskProc;
  tests(): SupervisionTest[];
  events(): { type: string; at: string; data: any }[];
  waitTest(pred: (t: SupervisionTest) => boolean, what: string, timeoutMs?: number): Promise<SupervisionTest>;
  runTest(): Promise<{ status: number; body: any }>;
  faults(): Promise<{ code: string; detail: string }[]>;
  post(route: string, body: unknown): Promise<{ status: number; body: any }>;
}

export async function rig(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<Rig> {
  const { file, dir } = kioskConfigFile({ audio: { input: { source: 'room' } }, ...overrides });
  const kiosk = await startKioskProcess(file, env);
  const r: Rig = {
    dir,
    kiosk,
    events() {
      try {
        return readJournal(path.join(dir, 'data')).events as never;
      } catch {
        return [];
      }
    },
    tests: () => r.events().filter((e) => e.type === 'supervision.test').map((e) => e.data as SupervisionTest),
    waitTest: (pred, what, timeoutMs = 30_000) => until(() => r.tests().find(pred), timeoutMs, `test ${what}`),
    runTest: () => postJson(kiosk.url + 'supervision/test', {}) as never,
    async faults() {
      return ((await (await fetch(kiosk.url + 'health')).json()) as { faults: { code: string; detail: string }[] }).faults;
    },
    post: (route, body) => postJson(kiosk.url + route, body) as never,
  };
  return r;
}

export const STEP_ORDER = ['registered', 'invite', 'audio-out', 'audio-in', 'dtmf', 'cleared', 'acoustic-loop', 'lamps', 'relays', 'screen', 'storage', 'clock'];
