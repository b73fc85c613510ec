// The sip-registration fault: raised when the kiosk has been registered with
// no registrar for a short grace (time to re-register with the same or a
// backup registrar), cleared as soon as one registration succeeds. Budget for
// "fault lamp and hub within 10 s of the loss": a dead registrar is noticed by
// the OPTIONS probe within 3 + 2 s (registration.ts), then this grace of 1.5 s.
// At start-up the first registration gets the whole 10 s.
import type { Bus } from '../core/bus.js';
import type { Faults } from '../health/faults.js';

export const REGISTRATION_GRACE_MS = 1500;
export const FIRST_REGISTRATION_MS = 10_000;

export function watchRegistration(opts: { bus: Bus; faults: Faults; registrars: () => number; graceMs?: number; firstMs?: number }): () => void {
  const { bus, faults } = opts;
  const registered = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let raised = false;
  let lastLoss = 'no registration yet';
  let since = new Date().toISOString();
  const arm = (ms: number) => {
    if (timer || opts.registrars() === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (registered.size > 0 || opts.registrars() === 0) return;
      raised = true;
      faults.raise('sip-registration', `not registered with any registrar since ${since} (${lastLoss})`);
    }, ms);
    timer.unref();
  };
  const off = bus.on('sip.registration', (e) => {
    if (e.registered) {
      registered.add(e.registrar);
      clearTimeout(timer);
      timer = undefined;
      if (raised) faults.clear('sip-registration');
      raised = false;
      return;
    }
    const was = registered.delete(e.registrar);
    lastLoss = `${e.registrar}: ${e.reason ?? 'lost'}`;
    if (registered.size === 0) {
      if (was) since = new Date().toISOString();
      arm(opts.graceMs ?? REGISTRATION_GRACE_MS);
    }
  });
  // A TLS server refused (tls-refusals.ts) is why the registration fails: the fault says so.
  const offTls = bus.on('sip.tls', (e) => {
    if (registered.size === 0) lastLoss = `${e.peer}: TLS refused: ${e.reason}`;
  });
  arm(opts.firstMs ?? FIRST_REGISTRATION_MS);
  return () => {
    off();
    offTls();
    clearTimeout(timer);
  };
}
