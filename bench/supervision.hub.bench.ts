// supervision, hub side (figures of the benchmark "supervision"; the kiosk
// side's bench/supervision.bench.ts has test_call_ms):
//   fault_to_hub_ms    a real kiosk process (sim driver) connected to an
//                      in-process hub (PGlite): the instant the kiosk raises a
//                      fault -> the fault visible in GET /api/supervision/faults
//                      (polled every 20 ms by a logged-in console). Fault types:
//                      tamper and power (a sim input: raised at once), button-stuck
//                      (held past io.stuckMs = 1000: from the stuck timer's due
//                      instant), hub-link (the kiosk process killed with SIGKILL:
//                      the hub's own view). p95 over every sample. Goal <= 2000.
//   fleet_test_1000_s  1,000 light kiosks (contract callers: real SIP over UDP and
//                      RTP on loopback, in a second process) each start one test
//                      call at a random instant of a 60 s window against the hub's
//                      test answerer; the figure is the first INVITE -> the last
//                      call cleared, in seconds. Refusals (INVITE not answered 200)
//                      and failed tests are reported as figures too; goal: 0 refused.
import os from 'node:os';
import path from 'node:path';
import { start } from '../src/testbed/proc.js';
import { DEMO_TOKEN, startHub } from '../test/hub/harness.js';
import { consoleLogin } from '../test/helpers/console.js';
import { kioskConfigFile, startKioskProcess, postJson, REPO } from '../test/helpers/processes.js';
import { cpuMs, percentile } from './stats.js';
import type { Report } from './run.js';

const ROUNDS = 5;
const FLEET = Number(process.env.HP_BENCH_FLEET ?? 1000);
const WINDOW_MS = Number(process.env.HP_BENCH_FLEET_WINDOW_MS ?? 60_000);
const cpuS = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

export async function run(report: Report): Promise<void> {
  const part = process.env.HP_BENCH_SUPERVISION_PART; // 'faults' or 'fleet': only that half
  if (part !== 'fleet') await faultToHub(report);
  if (part !== 'faults') await fleetTest(report);
}

async function faultToHub(report: Report): Promise<void> {
  const t = await startHub({ patch: (c) => (c.supervision = { answerer: { localHost: '127.0.0.1' } } as never) });
  try {
    const con = await consoleLogin(t.base, 'dispatcher', 'dispatcher-demo');
    const kioskId = 'conc-north';
    const faults = async () => (await con.json<{ code: string }[]>(`/api/supervision/faults?kiosk=${kioskId}`)).map((f) => f.code);
    const waitHub = async (cond: (codes: string[]) => boolean, what: string, ms = 15_000): Promise<number> => {
      const end = performance.now() + ms;
      for (;;) {
        if (cond(await faults())) return performance.now();
        if (performance.now() > end) throw new Error(`${what}: not at the hub within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const { file } = kioskConfigFile({ hub: { url: t.wsUrl, token: DEMO_TOKEN(kioskId), heartbeatS: 5 }, io: { stuckMs: 1000 } }, kioskId);
    const samples: Record<string, number[]> = { tamper: [], power: [], 'button-stuck': [], 'hub-link': [] };
    for (let round = 0; round < ROUNDS; round++) {
      const kiosk = await startKioskProcess(file);
      await waitHub((c) => !c.includes('hub-link'), 'kiosk online', 30_000);
      const sim = (input: string, active: boolean) => postJson(kiosk.url + 'sim/input', { input, active });
      for (const [code, input] of [['tamper', 'tamper'], ['power', 'powerFail']] as const) {
        const t0 = performance.now();
        await sim(input, true);
        samples[code]!.push((await waitHub((c) => c.includes(code), code)) - t0);
        await sim(input, false);
        await waitHub((c) => !c.includes(code), `${code} cleared`);
      }
      const t0 = performance.now() + 1000; // the stuck timer is due io.stuckMs after the press
      await sim('cancel', true);
      samples['button-stuck']!.push((await waitHub((c) => c.includes('button-stuck'), 'button-stuck')) - t0);
      await sim('cancel', false);
      await waitHub((c) => !c.includes('button-stuck'), 'button-stuck cleared');
      const tk = performance.now();
      kiosk.proc.child.kill('SIGKILL');
      samples['hub-link']!.push((await waitHub((c) => c.includes('hub-link'), 'hub-link')) - tk);
      await kiosk.proc.exited;
    }
    const all = Object.values(samples).flat();
    const med = (k: string) => Math.round(percentile(samples[k]!, 50));
    report(
      'fault_to_hub_ms',
      percentile(all, 95),
      'ms',
      `p95 of ${all.length} (${ROUNDS} per type); medians: tamper ${med('tamper')}, power ${med('power')}, button-stuck ${med('button-stuck')}, hub-link ${med('hub-link')}; kiosk process -> hub API (polled every 20 ms); goal <= 2000`,
    );
  } finally {
    await t.stop();
  }
}

async function fleetTest(report: Report): Promise<void> {
  const t = await startHub({ patch: (c) => (c.supervision = { answerer: { localHost: '127.0.0.1' } } as never) });
  try {
    const answerer = t.hub.ctx!.supervision!.answerer!;
    const proc = start('callers', process.execPath, ['--import', 'tsx', path.join(REPO, 'bench/supervision-callers.ts'), answerer.directUri, String(FLEET), String(WINDOW_MS), '4'], { cwd: REPO });
    await proc.waitFor(/"ready":true/, 30_000);
    const cpu0 = cpuS();
    const callersCpu0 = cpuMs(proc.pid);
    await proc.waitFor(/"done":true/, WINDOW_MS + 300_000);
    const hubCpu = cpuS() - cpu0;
    const callersCpu = (cpuMs(proc.pid) - callersCpu0) / 1000;
    await proc.exited;
    const rows = proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{"i":'))
      .map((l) => JSON.parse(l) as { startedAt: number; endedAt: number; passed: boolean; failedStep: string | null; refusedWith: number | null; detail?: string; ms: number });
    if (rows.length !== FLEET) throw new Error(`${rows.length} of ${FLEET} calls reported`);
    const first = Math.min(...rows.map((r) => r.startedAt));
    const last = Math.max(...rows.map((r) => r.endedAt));
    const refused = rows.filter((r) => r.failedStep === 'invite').length;
    const rejected = rows.filter((r) => r.refusedWith !== null).length;
    const codes = new Map<string, number>();
    for (const r of rows.filter((x) => x.failedStep === 'invite')) codes.set(`${r.refusedWith ?? 'none'} ${r.detail ?? ''}`.trim(), (codes.get(`${r.refusedWith ?? 'none'} ${r.detail ?? ''}`.trim()) ?? 0) + 1);
    const failed = rows.filter((r) => !r.passed);
    const byStep = new Map<string, number>();
    for (const r of failed) byStep.set(r.failedStep ?? '?', (byStep.get(r.failedStep ?? '?') ?? 0) + 1);
    const s = answerer.stats;
    const callMs = rows.filter((r) => r.passed).map((r) => r.ms);
    report(
      'fleet_test_1000_s',
      (last - first) / 1000,
      's',
      `${FLEET} light kiosks, starts spread over ${WINDOW_MS / 1000} s; first INVITE -> last call cleared; ${rows.length - failed.length} passed; calls at once at the answerer: max ${s.maxActive}; call median ${Math.round(percentile(callMs, 50))} ms, p95 ${Math.round(percentile(callMs, 95))} ms; CPU: hub with answerer ${hubCpu.toFixed(0)} s, callers ${callersCpu.toFixed(0)} s (${os.cpus().length} cores shared with other work; load average at the end ${os.loadavg()[0]!.toFixed(1)})`,
    );
    report('fleet_test_refused', refused + s.refused, 'calls', `INVITEs not answered 200: callers saw ${refused} (${rejected} with an error status, ${refused - rejected} with no final answer within 32 s), the answerer counted ${s.refused} it could not answer and was offered ${s.offered}${codes.size ? `; why: ${[...codes].map(([k, v]) => `${k} x${v}`).join(', ')}` : ''}; goal 0`);
    report('fleet_test_failed', failed.length, 'calls', failed.length ? `failed steps: ${[...byStep].map(([k, v]) => `${k} ${v}`).join(', ')}` : 'every call passed every step');
  } finally {
    await t.stop();
  }
}
