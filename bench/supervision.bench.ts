// supervision: the kiosk's test call.
//   test_call_ms   a whole test call with every call step (registered, invite,
//                  audio-out, audio-in, dtmf, cleared): the INVITE leaving ->
//                  the 200 to our BYE, from the verdict's step times (audio-out
//                  and audio-in run side by side from the answer, so the longer
//                  counts); median of RUNS on-demand tests against a contract
//                  answerer (the hub's SIP endpoint and the intercom's media,
//                  in this process) over UDP on loopback, a real kiosk process
//                  with the sim driver and the simulated room. Goal <= 10000.
//   test_total_ms  the same tests from the local request to the verdict,
//                  local self-tests included (acoustic loop ~0.5-1 s).
//   press_during_test_ms  a test call in progress (answered, the answerer
//                  holding it): the sim press (POST /sim/press) -> the alarm's
//                  INVITE reaching the emergency desk (a UDP socket here);
//                  median of PRESSES; the alarm is reset between rounds.
// fault_to_hub_ms and fleet_test_1000_s belong to the hub side (supervision-hub).
import { kioskConfigFile, startKioskProcess, postJson } from '../test/helpers/processes.js';
import { startAnswerer } from '../test/supervision/answerer.js';
import dgram from 'node:dgram';
import { percentile } from './stats.js';
import type { Report } from './run.js';

const RUNS = 7;
const PRESSES = 5;

export async function run(report: Report): Promise<void> {
  const answerer = await startAnswerer();
  try {
    const { file } = kioskConfigFile({ audio: { input: { source: 'room' } }, supervision: { enabled: false, target: answerer.uri } });
    const kiosk = await startKioskProcess(file);
    const call: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const r = await postJson(kiosk.url + 'supervision/test', {});
      total.push(performance.now() - t0);
      const t = r.body as { passed: boolean; steps: { step: string; ms: number; detail: string }[] };
      if (!t.passed) throw new Error(`test ${i} failed: ${JSON.stringify(t.steps)}`);
      const ms = (s: string) => t.steps.find((x) => x.step === s)!.ms;
      call.push(ms('invite') + Math.max(ms('audio-out'), ms('audio-in')) + ms('dtmf') + ms('cleared'));
    }
    report('test_call_ms', percentile(call, 50), 'ms', `median of ${RUNS}; min ${Math.round(Math.min(...call))}, max ${Math.round(Math.max(...call))}; INVITE -> BYE answered, every call step; goal <= 10000`);
    report('test_total_ms', percentile(total, 50), 'ms', `median of ${RUNS}; request -> verdict, call and local self-tests`);
    await kiosk.stop();
  } finally {
    await answerer.stop();
  }
  await pressDuringTest(report);
}

async function pressDuringTest(report: Report): Promise<void> {
  const answerer = await startAnswerer({ noInfo: true });
  const desk = dgram.createSocket('udp4');
  await new Promise<void>((r) => desk.bind(0, '127.0.0.1', () => r()));
  let invitedAt: number | undefined;
  desk.on('message', (m) => {
    if (invitedAt === undefined && m.toString().startsWith('INVITE ')) invitedAt = performance.now();
  });
  try {
    const deskUri = `sip:desk@127.0.0.1:${desk.address().port}`;
    const { file } = kioskConfigFile({
      audio: { input: { source: 'room' } },
      supervision: { enabled: false, target: answerer.uri, toneTimeoutMs: 20_000 },
      sip: { targets: { emergency: [{ uri: deskUri, ringTimeoutS: 30 }], information: [{ uri: deskUri }] } },
    });
    const kiosk = await startKioskProcess(file);
    const ms: number[] = [];
    for (let i = 0; i < PRESSES; i++) {
      invitedAt = undefined;
      const calls = answerer.calls.length;
      const pending = postJson(kiosk.url + 'supervision/test', {});
      while (!answerer.calls[calls]?.establishedAt) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 200));
      const t0 = performance.now();
      await postJson(kiosk.url + 'sim/press', { input: 'emergency', ms: 60 });
      const verdict = (await pending).body as { failedStep?: string };
      if (verdict.failedStep !== 'interrupted') throw new Error(`round ${i}: ${JSON.stringify(verdict)}`);
      while (invitedAt === undefined) await new Promise((r) => setTimeout(r, 5));
      ms.push(invitedAt - t0);
      await postJson(kiosk.url + 'sim/press', { input: 'reset', ms: 100 });
      for (let k = 0; k < 100; k++) {
        const h = (await (await fetch(kiosk.url + 'health')).json()) as { alarm: unknown; call?: unknown };
        if (!h.alarm && !h.call) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    report('press_during_test_ms', percentile(ms, 50), 'ms', `median of ${PRESSES}; max ${Math.round(Math.max(...ms))}; sim press request sent -> alarm INVITE at the desk, a test call in progress (ended first); goal < 1000`);
    await kiosk.stop();
  } finally {
    desk.close();
    await answerer.stop();
  }
}
