// Shared set-up for intercom tests: a kiosk process whose desks are sipp
// scenarios (or any SIP URIs), and a reader for its event log.
import { readJournal } from '../../src/store/event-journal.js';
import path from 'node:path';
import { kioskConfigFile, startKioskProcess, postJson, REPO, type KioskProc } from '../helpers/processes.js';
import { startSipp, type Sipp } from '../../src/testbed/sipp.js';
import { sleep, until } from '../helpers/tmp.js';
import type { Baresip } from '../../src/testbed/baresip.js';

export interface LoggedEvent {
  type: string;
  data: any;
}

export interface CallRig {
  kiosk: KioskProc;
  dir: string;
  events(): LoggedEvent[];
  states(): string[];
  press(input: string, ms?: number): Promise<void>;
  waitState(state: string, timeoutMs?: number, nth?: number): Promise<void>;
  sipPort(): Promise<number>;
}

export function scenario(name: string): string {
  return path.join(REPO, 'test/sipp', name);
}

export async function desk(name: string, extra: string[] = []): Promise<Sipp> {
  return startSipp({ scenario: scenario(name), args: ['-m', '1', '-rtp_echo', ...extra] });
}

export async function callRig(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, opts: { nodeArgs?: string[] } = {}): Promise<CallRig> {
  const { file, dir } = kioskConfigFile(overrides);
  const kiosk = await startKioskProcess(file, env, opts);
  const events = () => {
    try {
      return readJournal(path.join(dir, 'data')).events as LoggedEvent[];
    } catch {
      return [];
    }
  };
  const states = () => events().filter((e) => e.type === 'call.state').map((e) => e.data.state + (e.data.reason ? `(${e.data.reason})` : ''));
  return {
    kiosk,
    dir,
    events,
    states,
    press: async (input, ms = 60) => {
      await postJson(kiosk.url + 'sim/press', { input, ms });
    },
    waitState: async (state, timeoutMs = 10_000, nth = 1) => {
      await until(() => events().filter((e) => e.type === 'call.state' && e.data.state === state).length >= nth, timeoutMs, `call state ${state}`).catch((err: Error) => {
        throw new Error(`${err.message} (seen: ${states().join(', ')})`);
      });
    },
    sipPort: async () => ((await (await fetch(kiosk.url + 'health')).json()) as { sipPort: number }).sipPort,
  };
}

/** The states of the kiosk's first call: an emergency is an alarm, re-sent after a desk hangs up without acknowledging. */
export function firstCall(rig: CallRig): string[] {
  const calls = rig.events().filter((e) => e.type === 'call.state');
  const id = calls[0]?.data.callId;
  return calls.filter((e) => e.data.callId === id).map((e) => e.data.state + (e.data.reason ? `(${e.data.reason})` : ''));
}

export function targets(emergency: { uri: string; ringTimeoutS?: number; unreachableAfterS?: number }[], information = emergency) {
  return { sip: { targets: { emergency, information } } };
}

/**
 * A press, the alarm call to a baresip desk talking for 3 s, the desk hanging up, the kiosk stopped; returns the
 * desk's recording of that call. (The desk hangs up without acknowledging, so the alarm is re-sent at once: later
 * recordings are of that call.) `before`: the desk's number of recordings before the press.
 */
export async function alarmCallToBaresipDesk(rig: CallRig, deskPhone: Baresip, before: number): Promise<string> {
  await rig.press('emergency');
  await rig.waitState('connected', 15_000);
  await sleep(3000);
  await deskPhone.command('hangup');
  await rig.waitState('ended', 10_000);
  await rig.kiosk.stop();
  const recs = await until(() => (deskPhone.recordings().length > before ? deskPhone.recordings() : undefined), 5000, 'baresip recording');
  return recs[before]!;
}
