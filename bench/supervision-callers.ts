// The fleet of light kiosks for bench/supervision.hub.bench.ts, in its own
// process (the hub and its answerer keep the bench's process): N contract test
// calls, each started at a random instant of a window, from a few SIP
// endpoints (one endpoint places many calls: each call is one light kiosk with
// its own testId and X-Helppoint-Kiosk). Prints one JSON line per call, then "done".
//   node --import tsx bench/supervision-callers.ts <target> <n> <windowMs> [endpoints]
import { ContractCaller } from '../test/helpers/test-caller.js';

const [target, nArg, windowArg, epArg] = process.argv.slice(2);
const n = Number(nArg);
const windowMs = Number(windowArg);
const endpoints = Number(epArg ?? 4);
const callers = Array.from({ length: endpoints }, () => new ContractCaller());
await Promise.all(callers.map((c) => c.start()));
console.log(JSON.stringify({ ready: true }));
const t0 = performance.now();
await Promise.all(
  Array.from({ length: n }, async (_, i) => {
    const delay = Math.random() * windowMs;
    await new Promise((r) => setTimeout(r, delay));
    const startedAt = performance.now() - t0;
    const r = await callers[i % endpoints]!.test(target!, `light-${i}`, { timeoutMs: 32_000 }).catch((err: Error) => ({ passed: false, failedStep: `error: ${err.message}`, steps: [], refusedWith: undefined, ms: 0, testId: '', kiosk: `light-${i}` }));
    console.log(JSON.stringify({ i, startedAt: Math.round(startedAt), endedAt: Math.round(performance.now() - t0), passed: r.passed, failedStep: r.failedStep ?? null, refusedWith: r.refusedWith ?? null, detail: r.passed ? undefined : r.steps.find((s) => !s.ok)?.detail, ms: r.ms }));
  }),
);
await Promise.all(callers.map((c) => c.stop()));
console.log(JSON.stringify({ done: true }));
process.exit(0);
