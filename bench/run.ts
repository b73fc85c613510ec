// Benchmark runner: `npm run bench` runs every bench/*.bench.ts, `npm run bench
// -- NAME` one. Each prints one JSON line per figure and the run merges them
// into bench/results/latest.json (figures of benches not run are kept).
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import os from 'node:os';
import { stopAll } from '../src/testbed/proc.js';

export interface Figure {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  note?: string;
}
export type Report = (metric: string, value: number, unit: string, note?: string) => void;
export interface BenchModule {
  run(report: Report): Promise<void>;
}

const dir = path.dirname(fileURLToPath(import.meta.url));
const resultsFile = path.join(dir, 'results/latest.json');
// A benchmark NAME is bench/NAME.bench.ts plus any companion bench/NAME.<part>.bench.ts
// (two work streams can add figures to one benchmark without editing one file).
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts'));
const all = [...new Set(files.map((f) => f.replace(/\.bench\.ts$/, '').split('.')[0]!))].sort();
const filesOf = (name: string) => files.filter((f) => f === `${name}.bench.ts` || f.startsWith(`${name}.`)).sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; have: ${all.join(', ')}`);
  process.exit(2);
}

// Interrupted (Ctrl-C, a time limit): stop the peers we started before leaving.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void stopAll().finally(() => process.exit(130)));

const previous: { figures?: Figure[] } = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : {};
const ran = wanted.length ? wanted : all;
// A run of some parts of a benchmark (HP_BENCH_PARTS, see hub) replaces only the figures it reports.
const partial = !!process.env.HP_BENCH_PARTS;
let figures: Figure[] = (previous.figures ?? []).filter((f) => partial || !ran.includes(f.bench));
let failed = false;
for (const name of ran) {
  const report: Report = (metric, value, unit, note) => {
    const f: Figure = { bench: name, metric, value: Math.round(value * 1000) / 1000, unit, ...(note ? { note } : {}) };
    figures = figures.filter((x) => x.bench !== name || x.metric !== metric);
    figures.push(f);
    console.log(JSON.stringify(f));
  };
  for (const file of filesOf(name)) {
    try {
      const mod = (await import(`./${file}`)) as BenchModule;
      await mod.run(report);
    } catch (err) {
      failed = true;
      console.error(`bench ${name} (${file}) failed: ${(err as Error).stack ?? err}`);
    } finally {
      await stopAll();
    }
  }
}
writeFileSync(
  resultsFile,
  JSON.stringify({ at: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, figures }, null, 2) + '\n',
);
process.exit(failed ? 1 : 0);
