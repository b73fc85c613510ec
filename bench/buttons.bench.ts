// buttons: input edge to action event ('call.requested'), over 500 presses on
// the sim driver and on the johnny-five driver (real johnny-five objects over
// mock-firmata). The edge time is taken where the driver first sees the level
// change, so the figure includes debounce, press semantics and the bus.
// Also: how close a door-relay pulse comes to its configured length (the
// driver's write times of on and off), over 20 pulses per driver.
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

const PULSES = 20;

/** |held - configured| of door-relay pulses (120 ms), from the driver's writes. */
async function pulseErrors(kind: DriverKind): Promise<number[]> {
  const rig = await makeRig(kind);
  const ms = 120;
  const errors: number[] = [];
  for (let i = 0; i < PULSES; i++) {
    rig.writes.length = 0;
    rig.bus.emit('relay.pulse', { output: 'doorRelay', ms, source: 'bench' });
    await sleep(ms + 60);
    const w = rig.writes.filter(([o]) => o === 'doorRelay');
    if (w.length !== 2) throw new Error(`${kind}: pulse ${i} wrote ${JSON.stringify(w)}`);
    errors.push(Math.abs(w[1]![2] - w[0]![2] - ms));
  }
  await rig.stop();
  return errors;
}

export async function run(report: Report): Promise<void> {
  for (const kind of ['sim', 'johnny-five'] as const) {
    const errors = await pulseErrors(kind);
    const note = `${kind} driver, ${PULSES} door-relay pulses of 120 ms, |held - configured| from the driver's write times`;
    report(`${kind === 'sim' ? '' : 'j5_'}relay_pulse_error_p50_ms`, percentile(errors, 50), 'ms', note);
    report(`${kind === 'sim' ? '' : 'j5_'}relay_pulse_error_max_ms`, Math.max(...errors), 'ms', note);
  }
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
