#!/usr/bin/env node
// The whole suite in a few mocha processes at once. Most tests spend their
// time waiting on real peers and SIP timers (ring timeouts, retransmissions,
// health windows), not on the CPU, so running groups side by side cuts the
// wall time without changing what any test asserts. Each group is an ordinary
// serial mocha run of some files (one folder, or a slice of a big one), with
// its own root hooks; the longest groups start first. Output is printed per
// group when it ends, then the totals.
//
// Usage: node scripts/test-parallel.mjs   (HP_TEST_JOBS sets the processes, default 3)
import { spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const jobs = Math.max(1, Number(process.env.HP_TEST_JOBS ?? 3));
const tmp = process.env.HP_TEST_TMP ?? '/tmp';

/** Rough seconds per test file by folder, from CI runs; only the order of the queue depends on it. */
const WEIGHT = { hub: 90, hublink: 60, desk: 120, pa: 60, facilities: 60, intercom: 45, alarm: 50, display: 60, kiosk: 40, dsp: 40, sipserver: 60 };
/** Folders with more files than this are cut into slices, so one folder does not hold up the end. */
const SLICE = 4;

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const byFolder = new Map();
for (const f of testFiles(path.join(root, 'test'))) {
  const folder = path.relative(path.join(root, 'test'), f).split(path.sep)[0];
  if (!byFolder.has(folder)) byFolder.set(folder, []);
  byFolder.get(folder).push(path.relative(root, f));
}
const groups = [];
for (const [folder, files] of byFolder) {
  const n = Math.ceil(files.length / SLICE);
  for (let i = 0; i < n; i++) {
    const slice = files.filter((_, j) => j % n === i);
    groups.push({ name: n > 1 ? `${folder} ${i + 1}/${n}` : folder, files: slice, weight: slice.length * (WEIGHT[folder] ?? 20) });
  }
}
groups.sort((a, b) => b.weight - a.weight);

const totals = { passed: 0, failed: 0, skipped: 0 };
const failedGroups = [];
/** The failure reports of failed groups, printed again at the end so a log's tail names them. */
const failureReports = [];
const started = Date.now();

function count(text, word) {
  const m = [...text.matchAll(new RegExp(`^ +(\\d+) ${word}`, 'gm'))];
  return m.length ? Number(m[m.length - 1][1]) : 0;
}

function run(group, index, slot) {
  return new Promise((resolve) => {
    const file = path.join(tmp, `group-${index}.out`);
    const log = createWriteStream(file);
    const t0 = Date.now();
    const child = spawn('npx', ['mocha', '--reporter', 'spec', ...group.files], { cwd: root, env: { ...process.env, HP_TEST_SLOT: String(slot) }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('close', (code) => {
      log.end(() => {
        const text = readFileSync(file, 'utf8');
        const passed = count(text, 'passing');
        const failed = count(text, 'failing');
        totals.passed += passed;
        totals.failed += failed;
        totals.skipped += count(text, 'pending');
        if (code !== 0 || passed + failed === 0) {
          failedGroups.push(`${group.name} (exit ${code})`);
          const at = text.search(/^ +\d+ failing/m);
          failureReports.push(`--- ${group.name}\n${at >= 0 ? text.slice(at, at + 4000) : text.slice(-2000)}`);
        }
        process.stdout.write(`\n===== ${group.name}: ${group.files.join(' ')} (${((Date.now() - t0) / 1000).toFixed(0)} s, exit ${code})\n${text}`);
        resolve();
      });
    });
  });
}

let next = 0;
await Promise.all(
  Array.from({ length: Math.min(jobs, groups.length) }, async (_, slot) => {
    while (next < groups.length) {
      const i = next++;
      await run(groups[i], i, slot);
    }
  }),
);

if (failureReports.length) console.log(`\n===== the failures again\n${failureReports.join('\n')}`);
console.log(`\n${groups.length} groups in ${jobs} processes, ${((Date.now() - started) / 1000).toFixed(0)} s`);
if (failedGroups.length) console.log(`groups that failed: ${failedGroups.join(', ')}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failedGroups.length || totals.passed === 0 ? 1 : 0);
