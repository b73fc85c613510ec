// IO and a new config: what the inputs, lamps and relays read when they act
// (debounce, stuck time, upgrade hold, door pulse, tamper reaction) follows at
// once; the driver and the pin map (which lines exist, their pins, polarity
// and pull) are opened at start and need a restart.
import type { Reconfigured } from '../core/capability.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { canonical } from '../kiosk/config-diff.js';

type Io = KioskConfig['io'];

/** The io section with the settings read at every use taken out: what is left needs a restart to change. */
function openedAtStart(io: Io): unknown {
  const { stuckMs: _s, upgradeHoldMs: _u, doorPulseMs: _d, tamper: _t, inputs, ...rest } = io;
  const pins = Object.fromEntries(Object.entries(inputs).map(([name, pin]) => [name, pin && { ...pin, debounceMs: undefined }]));
  return { ...rest, inputs: pins };
}

export function reconfigureIo(prev: Io, next: Io): Reconfigured {
  if (canonical(prev) === canonical(next)) return 'unchanged';
  return canonical(openedAtStart(prev)) === canonical(openedAtStart(next)) ? 'applied' : 'restart';
}
