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
// fault_to_hub_ms and fleet_test_1000_s belong to the hub side (supervision-hub).
import { kioskConfigFile, startKioskProcess, postJson } from '../test/helpers/processes.js';
import { startAnswerer } from '../test/supervision/answerer.js';
import { percentile } from './stats.js';
import type { Report } from './run.js';

const RUNS = 7;

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
}
