// buttons: input edge to action event ('call.requested'), over 500 presses on
// the sim driver and on the johnny-five driver (real johnny-five objects over
// mock-firmata). The edge time is taken where the driver first sees the level
// change, so the figure includes debounce, press semantics and the bus.
import { makeRig, sleep, type DriverKind } from '../test/io/harness.js';
import { percentile } from './stats.js';
import type { Report } from './run.js';

const PRESSES = 500;

async function measure(kind: DriverKind): Promise<{ latencies: number[]; debounceMs: number }> {
  const rig = await makeRig(kind);
  const debounceMs = rig.config.io.inputs.emergency.debounceMs;
  const latencies: number[] = [];
  rig.bus.on('call.requested', (e) => {
    latencies.push(Number(process.hrtime.bigint() - e.edgeNs!) / 1e6);
    rig.bus.emit('call.state', { callId: `b${latencies.length}`, kind: 'emergency', state: 'ended' });
  });
  for (let i = 0; i < PRESSES; i++) {
    rig.set('emergency', true);
    await sleep(debounceMs + 8);
    rig.set('emergency', false);
    await sleep(debounceMs + 8);
  }
  await rig.stop();
  if (latencies.length !== PRESSES) throw new Error(`${kind}: ${latencies.length} actions for ${PRESSES} presses`);
  return { latencies, debounceMs };
}

export async function run(report: Report): Promise<void> {
  for (const kind of ['sim', 'johnny-five'] as const) {
    const { latencies, debounceMs } = await measure(kind);
    const p = kind === 'sim' ? '' : 'j5_';
    const note = `${kind} driver, ${PRESSES} presses, edge to call.requested, debounce included`;
    report(`${p}press_latency_p50_ms`, percentile(latencies, 50), 'ms', note);
    report(`${p}press_latency_p99_ms`, percentile(latencies, 99), 'ms', note);
    report(`${p}beyond_debounce_p99_ms`, percentile(latencies, 99) - debounceMs, 'ms', 'p99 minus the debounce window');
    report(`${p}debounce_ms`, debounceMs, 'ms', 'configured debounce window');
  }
}
