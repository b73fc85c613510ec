// The idle CPU of a hands-free kiosk (echo canceller on) before its first call
// and after a call, in its own process (issue 16: the hands-free chain used to
// keep running after the first call). Not part of `npm run bench`: run it
// as the benchmarks run, `node --import tsx bench/handsfree-idle.ts`, after
// `npm run build` (the kiosk runs compiled, as its unit starts it).
// Prints one JSON line per figure, as the benchmarks do:
//   aec_idle_before_call_pct  % of one core, /proc/<pid>/stat utime+stime over WINDOW_S, before any call
//   aec_idle_after_call_pct   the same, starting 3 s after a 5 s call ended (the mixer leaves its clock 1 s after)
// Both windows are the same process in the same minutes; their ratio is the figure that survives a loaded machine.
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { startSipp } from '../src/testbed/sipp.js';
import { start, stopAll } from '../src/testbed/proc.js';
import { kioskConfigFile, REPO } from '../test/helpers/processes.js';
import { scenario } from '../test/intercom/helpers.js';
import { cpuMs } from './stats.js';
import { kioskUnitArgs } from './unit.js';
import { request } from './local-http.js';

const WINDOW_S = Number(process.env.HP_IDLE_WINDOW_S ?? 25);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-idle-'));
  const wav = path.join(dir, 'speech.wav');
  const msg = path.join(REPO, 'audio/messages/evacuation.en.wav');
  execFileSync('sox', [msg, msg, '-r', '8000', '-c', '1', '-b', '16', wav]);
  const desk = await startSipp({ scenario: scenario('desk-answer-now.xml'), args: ['-m', '10', '-rtp_echo'] });
  const deskUri = `sip:desk@127.0.0.1:${desk.port}`;
  const { file } = kioskConfigFile({
    sip: { targets: { emergency: [{ uri: deskUri, ringTimeoutS: 5 }], information: [{ uri: deskUri }] }, codecs: ['PCMU'], emergencyCancellable: true },
    io: { inputs: { emergency: { pin: 17, debounceMs: 0 }, cancel: { pin: 22, debounceMs: 0 } } },
    audio: { output: { sink: 'null' }, input: { source: 'file', file: wav }, handsFree: { mode: 'aec' } },
  });
  const p = start('kiosk-aec', process.execPath, kioskUnitArgs(file), { cwd: dir });
  const ready = JSON.parse(await p.waitFor(/"msg":"ready"/, 30_000)) as { local: string };
  const input = (n: string, active: boolean) => request(ready.local + 'sim/input', 'POST', { input: n, active });
  const health = () => request(ready.local + 'health', 'GET') as Promise<{ call?: unknown; alarm?: unknown }>;
  const pa = () => request(ready.local + 'pa', 'GET');
  const window = async () => {
    const c0 = cpuMs(p.pid);
    const t0 = performance.now();
    await sleep(WINDOW_S * 1000);
    return ((cpuMs(p.pid) - c0) / (performance.now() - t0)) * 100;
  };
  await sleep(5000); // start-up work (warm-up call, preloads) settles
  const load = () => os.loadavg()[0]!.toFixed(2);
  const before = await window();
  const loadBefore = load();
  const paBefore = JSON.stringify(await pa());
  await input('emergency', true);
  for (let i = 0; !(await health()).call; i++) {
    if (i > 500) throw new Error('no call');
    await sleep(10);
  }
  await sleep(5000);
  await input('emergency', false);
  await input('cancel', true);
  await input('cancel', false);
  for (;;) {
    const h = await health();
    if (!h.call && !h.alarm) break;
    await sleep(10);
  }
  await sleep(3000);
  const paAfter = JSON.stringify(await pa());
  const after = await window();
  const loadAfter = load();
  const line = (metric: string, value: number, note: string) => console.log(JSON.stringify({ bench: 'handsfree-idle', metric, value: Math.round(value * 100) / 100, unit: '%', note }));
  line('aec_idle_before_call_pct', before, `kiosk with the canceller on (file microphone, null sink), own process, /proc utime+stime over ${WINDOW_S} s before its first call; load ${loadBefore}; GET /pa ${paBefore.slice(0, 300)}`);
  line('aec_idle_after_call_pct', after, `the same process over ${WINDOW_S} s from 3 s after a 5 s call (sipp desk echoing RTP) ended; load ${loadAfter}; ratio after/before ${(after / Math.max(0.01, before)).toFixed(2)}; GET /pa ${paAfter.slice(0, 300)}`);
  await p.stop();
  await desk.stop();
  await stopAll();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
