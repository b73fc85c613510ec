// Call-status lamps after the EN 81-28 pictograms, driven by events only:
// yellow = alarm sent (calling, ringing, queued), green = voice connected.
// The fault lamp mirrors the fault list; the beacon runs during an emergency call.
import type { Bus } from '../core/bus.js';
import type { IoDriver } from './types.js';
import type { Faults } from '../health/faults.js';

export function wireLamps(bus: Bus, driver: IoDriver, faults: Faults): void {
  let current: string | undefined;
  bus.on('call.state', (e) => {
    if (e.incoming && e.state === 'ringing') return; // an unanswered incoming call lights nothing
    // A late event of an earlier call must not change the lamps of the call in progress.
    const active = e.state !== 'ended' && e.state !== 'failed';
    if (current && e.callId !== current && !active) return;
    current = active ? e.callId : undefined;
    const sending = e.state === 'calling' || e.state === 'ringing' || e.state === 'queued';
    const connected = e.state === 'connected' || e.state === 'held';
    driver.write('lampYellow', sending);
    driver.write('lampGreen', connected);
    driver.write('beacon', e.kind === 'emergency' && (sending || connected));
  });
  const fault = () => driver.write('lampFault', faults.list().length > 0);
  bus.on('fault.raised', fault);
  bus.on('fault.cleared', fault);
  fault(); // faults raised before the lamps were wired (the store at start-up)
}
