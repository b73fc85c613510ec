// Which incoming calls may be answered automatically as the desk calling back
// during an open alarm. Trust comes from how the call arrived, never from what
// it says about itself (the From header is not even read):
//   - from the registrar/proxy the kiosk is registered with, or
//   - from the address of one of the emergency desks (sip.targets.emergency);
//   compared by host and port over UDP, by host only over TCP/TLS (whose source port is ephemeral).
// To be reconciled with the general trust predicate for incoming calls
// (registrar, configured source list, pinned TLS peer) once that lands.
import type { KioskConfig } from '../config/schema/kiosk.js';
import { parseSipUriAddress, type Address } from './transports/routing.js';
import { resolveTarget } from './targets.js';

export function trustedForAlarmCallback(arrival: Address | undefined, config: KioskConfig, registrar: Address | undefined): boolean {
  if (!arrival) return false;
  const stream = config.sip.account.registrars[0] ? config.sip.account.registrars[0].transport !== 'udp' : config.sip.transport !== 'udp';
  const same = (a: Address) => a.host.toLowerCase() === arrival.host.toLowerCase() && (stream || a.port === arrival.port);
  if (registrar && same(registrar)) return true;
  return config.sip.targets.emergency.some((t) => {
    const a = parseSipUriAddress(resolveTarget(t.uri, config.sip), 5060);
    return !!a && same(a);
  });
}
