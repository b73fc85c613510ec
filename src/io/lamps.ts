// Lamps after the EN 81-28 pictograms, driven by events only:
//   yellow "alarm sent": from the alarm raised until it is reset (and while an
//          information call is being put through: calling, ringing, queued);
//   green  "voice connected": while a call is connected;
//   beacon: while an alarm is open (or an emergency call runs without one).
// The fault lamp mirrors the fault list. Each call is followed by its id, so a
// late event of an earlier call cannot change the lamps of the current one.
import type { Bus } from '../core/bus.js';
import type { IoDriver } from './types.js';
import type { Faults } from '../health/faults.js';
import type { CallKind, CallState } from '../intercom/events.js';

export function wireLamps(bus: Bus, driver: IoDriver, faults: Faults): void {
  const calls = new Map<string, { kind: CallKind; state: CallState }>();
  let alarmOpen = false;
  const update = () => {
    const states = [...calls.values()];
    const sending = states.some((c) => c.state === 'calling' || c.state === 'ringing' || c.state === 'queued');
    const connected = states.some((c) => c.state === 'connected' || c.state === 'held');
    driver.write('lampYellow', alarmOpen || (sending && !connected));
    driver.write('lampGreen', connected);
    driver.write('beacon', alarmOpen || states.some((c) => c.kind === 'emergency'));
  };
  bus.on('call.state', (e) => {
    if (e.incoming && e.state === 'ringing') return; // an unanswered incoming call lights nothing
    if (e.state === 'ended' || e.state === 'failed') calls.delete(e.callId);
    else calls.set(e.callId, { kind: e.kind, state: e.state });
    update();
  });
  bus.on('alarm.state', (e) => {
    alarmOpen = e.state !== 'reset';
    update();
  });
  const fault = () => driver.write('lampFault', faults.list().length > 0);
  bus.on('fault.raised', fault);
  bus.on('fault.cleared', fault);
  fault(); // faults raised before the lamps were wired (the store at start-up)
}
