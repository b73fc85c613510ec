// Profiles one call of the bench's kiosk (the intercom bench's caller: compiled, the unit's node options,
// PCMU, the speech WAV as microphone, output discarded) with node --cpu-prof, and prints the top
// self-time functions of 30 s idle and of 30 s in a call, from the same profile (samples split by time:
// V8's profile clock and this process's hrtime are both the monotonic clock).
//   node --import tsx bench/profile-call.ts [aec] [seconds]
import { readFileSync, readdirSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { startSipp } from '../src/testbed/sipp.js';
import { start } from '../src/testbed/proc.js';
import { kioskConfigFile, REPO } from '../test/helpers/processes.js';
import { scenario } from '../test/intercom/helpers.js';
import { cpuMs } from './stats.js';
import { kioskUnitArgs } from './unit.js';

const handsFree = process.argv.includes('aec') ? 'aec' : 'off';
/** noprof: /proc CPU only (the profiler's own cost is several % of a core); strace: syscall counts of 10 s idle and 10 s in the call */
const noProf = process.argv.includes('noprof') || process.argv.includes('strace');
const straceOn = process.argv.includes('strace');
const SECONDS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 30);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

function post(url: string, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(data);
  });
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Self time per function (name + file:line) of the samples between from and to (µs, monotonic). */
function selfTime(prof: { nodes: Node[]; startTime: number; samples: number[]; timeDeltas: number[] }, from: number, to: number) {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const acc = new Map<string, number>();
  let t = prof.startTime;
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i]!;
    t += dt;
    if (t < from || t > to) continue;
    const n = byId.get(prof.samples[i]!)!;
    const f = n.callFrame;
    if (f.functionName === '(idle)') continue;
    const key = `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
    const interval = prof.timeDeltas[i + 1] ?? dt;
    acc.set(key, (acc.get(key) ?? 0) + interval);
    total += interval;
  }
  return { total, top: [...acc.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25) };
}

async function main() {
  const desk = await startSipp({ scenario: scenario('desk-answer-now.xml'), args: ['-m', '5', '-rtp_echo'] });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-prof-'));
  const wav = path.join(dir, 'speech.wav');
  const msg = path.join(REPO, 'audio/messages/evacuation.en.wav');
  execFileSync('sox', [...Array(5).fill(msg), '-r', '8000', '-c', '1', '-b', '16', wav]);
  const { file } = kioskConfigFile({
    sip: { targets: { emergency: [{ uri: `sip:desk@127.0.0.1:${desk.port}`, ringTimeoutS: 5 }], information: [{ uri: `sip:desk@127.0.0.1:${desk.port}` }] }, codecs: ['PCMU'], emergencyCancellable: true },
    io: { inputs: { emergency: { pin: 17, debounceMs: 0 }, cancel: { pin: 22, debounceMs: 0 } } },
    audio: { output: { sink: 'null' }, input: { source: 'file', file: wav }, handsFree: { mode: handsFree } },
  });
  const profDir = path.join(dir, 'prof');
  const p = start('kiosk', process.execPath, [...(noProf ? [] : ['--cpu-prof', '--cpu-prof-dir', profDir]), ...kioskUnitArgs(file)], { cwd: dir });
  const strace = (label: string) => {
    if (!straceOn) return;
    let out = '';
    try {
      execFileSync('timeout', ['-s', 'INT', '10', 'strace', '-f', '-c', '-p', String(p.pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      out = String((e as { stderr?: string }).stderr ?? e); // timeout ends strace: a non-zero exit, the table on stderr
    }
    console.log(`strace ${label} (10 s):\n${out.split('\n').filter((l) => !/attached|detached/.test(l)).join('\n')}`);
  };
  const ready = JSON.parse(await p.waitFor(/"msg":"ready"/, 30_000)) as { local: string };
  await sleep(3000);
  const i0 = nowUs();
  const c0 = cpuMs(p.pid);
  await sleep(SECONDS * 1000);
  const i1 = nowUs();
  strace('idle');
  const c1 = cpuMs(p.pid);
  await post(ready.local + 'sim/input', { input: 'emergency', active: true });
  await sleep(3000);
  const b0 = nowUs();
  const c2 = cpuMs(p.pid);
  await sleep(SECONDS * 1000);
  const b1 = nowUs();
  const c3 = cpuMs(p.pid);
  strace('call');
  await post(ready.local + 'sim/input', { input: 'emergency', active: false });
  await post(ready.local + 'sim/input', { input: 'cancel', active: true });
  await sleep(500);
  await p.stop(10_000);
  await desk.stop();
  if (noProf) {
    const pct = (ms: number) => ((ms / (SECONDS * 1000)) * 100).toFixed(2);
    console.log(`idle ${pct(c1 - c0)} %, call ${pct(c3 - c2)} %, call minus idle ${pct(c3 - c2 - (c1 - c0))} %; load ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
    return;
  }
  const files = readdirSync(profDir);
  const prof = JSON.parse(readFileSync(path.join(profDir, files[0]!), 'utf8'));
  const print = (label: string, from: number, to: number, cpu: number) => {
    const { total, top } = selfTime(prof, from, to);
    console.log(`\n== ${label}: ${SECONDS} s, /proc cpu ${((cpu / (SECONDS * 1000)) * 100).toFixed(2)} %, sampled non-idle ${(total / 1000).toFixed(0)} ms`);
    for (const [k, us] of top) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
  };
  print('idle', i0, i1, c1 - c0);
  print(`call (hands-free ${handsFree})`, b0, b1, c3 - c2);
  console.log(`\nprofile: ${path.join(profDir, files[0]!)}; load ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
